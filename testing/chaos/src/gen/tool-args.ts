import type { Rng } from '../prng.js';
import { pickModel, pickVoice, type JsonSchema, type ToolInfo, type World } from './common.js';
import { speechText, weirdValue } from './values.js';

/** A plausible value for a tool argument, by name first (what the tool means) and schema second. */
function argumentValue(rng: Rng, name: string, schema: JsonSchema, world: World): unknown {
  switch (name) {
    case 'text':
      return schema.maxLength === 1000 ? speechText(rng).slice(0, 1000) : speechText(rng);
    case 'voice':
    case 'default_voice':
      return pickVoice(rng, world);
    case 'model':
    case 'default_model':
      return pickModel(rng, world);
    case 'id':
    case 'generated_voice_id':
      return rng.chance(0.9) ? `{{hid:${rng.int(0, 1_000_000)}}}` : `sp_${rng.bytes(6).toString('hex')}`;
    case 'source':
      return rng.pick([
        `earshot://history/{{hid:${rng.int(0, 1_000_000)}}}`,
        `{{hid:${rng.int(0, 1_000_000)}}}`,
      ]);
    case 'audio_base64':
      return rng.bytes(rng.int(1, 2048)).toString('base64');
    case 'file_name':
      return rng.pick(['out.wav', 'clip.wav', '../escape.wav', 'a/b.wav']);
    case 'description':
      return 'A calm, warm narrator voice with a slight British accent.'.slice(0, rng.int(20, 60));
    case 'daily_char_limit':
      return rng.pick([null, 10_000_000]);
    case 'save_audio':
      return true;
    case 'wait':
      return rng.chance(0.1) ? 'played' : 'generated';
    case 'output':
      return rng.weighted<string>([
        [6, 'link'],
        [3, 'audio'],
        [1, 'file'],
      ]);
    case 'lines':
      return Array.from({ length: rng.int(1, 4) }, () => ({
        voice: pickVoice(rng, world),
        text: speechText(rng).slice(0, 120),
      }));
    default:
      return fromSchema(rng, schema, world, 0);
  }
}

function fromSchema(rng: Rng, schema: JsonSchema, world: World, depth: number): unknown {
  if (schema.enum) return rng.pick(schema.enum);
  if (schema.anyOf) return fromSchema(rng, rng.pick(schema.anyOf), world, depth);
  const type = Array.isArray(schema.type) ? rng.pick(schema.type as string[]) : schema.type;
  switch (type) {
    case 'string': {
      const min = schema.minLength ?? 0;
      const max = Math.min(schema.maxLength ?? 40, 40);
      return 'abcdefghij'.repeat(5).slice(0, rng.int(min, Math.max(min, max)));
    }
    case 'number':
      return (schema.minimum ?? 0) + rng.float() * ((schema.maximum ?? 10) - (schema.minimum ?? 0));
    case 'integer':
      return rng.int(schema.minimum ?? 0, Math.min(schema.maximum ?? 100, 100));
    case 'boolean':
      return rng.chance(0.5);
    case 'null':
      return null;
    case 'array':
      return depth > 2 || !schema.items
        ? []
        : Array.from({ length: rng.int(schema.minItems ?? 0, Math.min(schema.maxItems ?? 3, 3)) }, () =>
            fromSchema(rng, schema.items!, world, depth + 1),
          );
    case 'object':
      return Object.fromEntries(
        Object.entries(schema.properties ?? {})
          .filter(([name]) => schema.required?.includes(name) || rng.chance(0.3))
          .map(([name, property]) => [name, fromSchema(rng, property, world, depth + 1)]),
      );
    default:
      return weirdValue(rng);
  }
}

/** Valid arguments for a tool: every required one, each optional one sometimes. */
export function toolArguments(rng: Rng, tool: ToolInfo, world: World): Record<string, unknown> {
  const properties = tool.inputSchema.properties ?? {};
  const required = new Set(tool.inputSchema.required ?? []);
  return Object.fromEntries(
    Object.entries(properties)
      .filter(([name]) => required.has(name) || rng.chance(0.35))
      .map(([name, schema]) => [name, argumentValue(rng, name, schema, world)]),
  );
}
