import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallerContext, ToolDeps } from '../context.js';
import { guarded, ok } from '../results.js';
import { describeSettings, settingsForTools, settingsOutputShape } from './settings-shape.js';

export const GET_SETTINGS_TOOL = 'get_settings';

export function registerGetSettingsTool(server: McpServer, deps: ToolDeps, caller: CallerContext): void {
  server.registerTool(
    GET_SETTINGS_TOOL,
    {
      title: 'Get voice settings',
      description:
        "Show the user's saved defaults: voice, model, voice settings, auto-play and save-audio. Free.",
      inputSchema: {},
      outputSchema: settingsOutputShape,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    () =>
      guarded(async () => {
        const settings = await deps.settings.get(caller.user);
        return ok(describeSettings(settings), settingsForTools(settings));
      }),
  );
}
