import type { ToolSet } from '../tool-set.js';
import type { ToolDeps } from '../context.js';
import { guarded, ok } from '../results.js';
import { describeSettings, settingsForTools, settingsOutputShape } from './settings-shape.js';

export const GET_SETTINGS_TOOL = 'get_settings';

export function registerGetSettingsTool(tools: ToolSet, deps: ToolDeps): void {
  tools.define(
    GET_SETTINGS_TOOL,
    {
      title: 'Get voice settings',
      description:
        "Show the user's saved defaults: voice, model, voice settings, auto-play and save-audio. Free.",
      inputSchema: {},
      outputSchema: settingsOutputShape,
      annotations: { readOnlyHint: true, openWorldHint: false },
      answersAtOnce: true,
    },
    (_args, call) =>
      guarded(async () => {
        const settings = await deps.settings.get(call.user);
        return ok(describeSettings(settings, deps.engine.defaultModelId), settingsForTools(settings));
      }),
  );
}
