import { CREATION_ANNOTATIONS } from '../generated-audio.js';
import type { ToolSet } from '../tool-set.js';
import { INPUT_PATH_MAX_CHARS } from '../../services/input-files.js';
import { z } from 'zod';
import { EarshotError } from '../../errors.js';
import type { AudioUpload } from '../../engines/studio.js';
import {
  FILE_DESCRIPTION,
  readFileSource,
  readHistorySource,
  SOURCE_DESCRIPTION,
  SOURCE_MAX_BYTES,
} from '../audio-source.js';
import type { ToolDeps } from '../context.js';
import { guarded, ok } from '../results.js';
import { needStudio } from './audio-tool-shared.js';

export const VOICE_CLONE_TOOL = 'voice_clone';

/** ElevenLabs takes at most 25 samples per instant clone. */
export const CLONE_MAX_SOURCES = 25;
/** All samples together: what one upload to ElevenLabs may weigh. */
export const CLONE_MAX_TOTAL_BYTES = SOURCE_MAX_BYTES;
export const CLONE_MAX_LABELS = 10;
const LABEL_KEY = /^[a-z][a-z0-9_]{0,29}$/;

export function registerVoiceCloneTool(tools: ToolSet, deps: ToolDeps): void {
  tools.define(
    VOICE_CLONE_TOOL,
    {
      requires: 'elevenlabs',
      title: 'Clone a voice',
      description:
        'Make a new voice from recordings of a speaker (ElevenLabs instant voice cloning): 1–25 samples in ' +
        'all, from Earshot history (sources) or files in EARSHOT_INPUT_DIRS (input_paths), ideally a minute or ' +
        'more of clean speech. The voice is added to the ElevenLabs ' +
        'account (list_voices shows it) and speak can use it at once. No credits are spent; it takes one of ' +
        "the plan's voice slots (plans without cloning get a clear refusal). Only clone voices you have the " +
        'right to use. Needs an ElevenLabs key.',
      inputSchema: {
        sources: z
          .array(z.string().min(1).max(300))
          .max(CLONE_MAX_SOURCES)
          .optional()
          .describe(`Samples from history, each ${SOURCE_DESCRIPTION}`),
        input_paths: z
          .array(z.string().min(1).max(INPUT_PATH_MAX_CHARS))
          .max(CLONE_MAX_SOURCES)
          .optional()
          .describe(`Sample files, each ${FILE_DESCRIPTION}`),
        name: z.string().min(1).max(100).describe('Name of the new voice.'),
        description: z.string().max(500).optional(),
        labels: z
          .record(z.string().max(30), z.string().min(1).max(50))
          // Bounded in the schema too (maxProperties), so tools/list shows the cap and a huge map is refused early.
          .refine(
            (labels) => Object.keys(labels).length <= CLONE_MAX_LABELS,
            `At most ${CLONE_MAX_LABELS} labels.`,
          )
          .meta({ maxProperties: CLONE_MAX_LABELS })
          .optional()
          .describe('Up to 10 labels, e.g. {"accent": "british", "gender": "female"}.'),
        remove_background_noise: z
          .boolean()
          .optional()
          .describe('Clean the samples first (can make clean samples worse).'),
        make_default: z.boolean().optional().describe("Also make it the user's default voice."),
      },
      outputSchema: { voice_id: z.string(), name: z.string(), is_default: z.boolean(), samples: z.number() },
      annotations: CREATION_ANNOTATIONS,
    },
    (args, call) =>
      guarded(async () => {
        const studio = needStudio(deps, 'Voice cloning');
        const name = args.name.trim();
        if (name === '') throw new EarshotError('invalid_input', 'Give the new voice a name.');
        const labels = Object.entries(args.labels ?? {});
        if (labels.length > CLONE_MAX_LABELS) {
          throw new EarshotError('invalid_input', `At most ${CLONE_MAX_LABELS} labels.`);
        }
        const badKey = labels.find(([key]) => !LABEL_KEY.test(key));
        if (badKey) {
          throw new EarshotError(
            'invalid_input',
            `Label "${badKey[0].slice(0, 30)}" must be lower-case letters, digits and _ (e.g. accent).`,
          );
        }
        const sources = args.sources ?? [];
        const files = args.input_paths ?? [];
        const count = sources.length + files.length;
        if (count === 0 || count > CLONE_MAX_SOURCES) {
          throw new EarshotError(
            'invalid_input',
            `Give 1 to ${CLONE_MAX_SOURCES} samples in all (sources and input_paths); ${count} given.`,
          );
        }
        const keys = [...sources.map((source) => `s:${source.trim()}`), ...files.map((file) => `f:${file}`)];
        if (new Set(keys).size !== keys.length) {
          throw new EarshotError('invalid_input', 'The same sample is given twice.');
        }
        const samples: AudioUpload[] = [];
        let total = 0;
        const room = () => {
          if (total >= CLONE_MAX_TOTAL_BYTES) {
            throw new EarshotError(
              'input_too_large',
              `The samples pass ${CLONE_MAX_TOTAL_BYTES / 1024 / 1024} MB in all; use fewer or shorter ones.`,
            );
          }
          return CLONE_MAX_TOTAL_BYTES - total;
        };
        for (const source of sources) {
          const sample = await readHistorySource(deps, call.user, source, room());
          total += sample.audio.length;
          samples.push(sample);
        }
        for (const file of files) {
          const sample = await readFileSource(deps, file, room());
          total += sample.audio.length;
          samples.push(sample);
        }
        const voice = await studio.cloneVoice({
          name,
          description: args.description,
          labels: labels.length > 0 ? Object.fromEntries(labels) : undefined,
          removeBackgroundNoise: args.remove_background_noise,
          samples,
        });
        deps.catalog.invalidateVoices();
        if (args.make_default) await deps.settings.update(call.user, { defaultVoice: voice.id });
        return ok(
          `Cloned "${voice.name}" from ${samples.length} sample${samples.length === 1 ? '' : 's'}: voice ` +
            `${voice.id}.${args.make_default ? ' It is now the default voice.' : ''} Use it with speak.`,
          {
            voice_id: voice.id,
            name: voice.name,
            is_default: args.make_default === true,
            samples: samples.length,
          },
        );
      }),
  );
}
