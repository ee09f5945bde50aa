import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallerContext, ToolDeps } from '../context.js';
import { registerDeleteHistoryItemTool } from './delete-history-item.js';
import { registerGetSettingsTool } from './get-settings.js';
import { registerGetUsageTool } from './get-usage.js';
import { registerGetVoiceTool } from './get-voice.js';
import { registerSearchVoicesTool } from './search-voices.js';
import { registerListHistoryTool } from './list-history.js';
import { registerReplayTool } from './replay.js';
import { registerListModelsTool } from './list-models.js';
import { registerListVoicesTool } from './list-voices.js';
import { registerSpeakDialogueTool } from './speak-dialogue.js';
import { registerSearchVoiceLibraryTool } from './search-voice-library.js';
import { registerSpeakTool } from './speak.js';
import { registerSpeechToTextTool } from './speech-to-text.js';
import { registerTextToSoundEffectsTool } from './text-to-sound-effects.js';
import { registerStopSpeakingTool } from './stop-speaking.js';
import { registerTextToSpeechTool } from './text-to-speech.js';
import { registerUpdateSettingsTool } from './update-settings.js';

export function registerTools(server: McpServer, deps: ToolDeps, caller: CallerContext): void {
  registerSpeakTool(server, deps, caller);
  registerStopSpeakingTool(server, deps, caller);
  registerListVoicesTool(server, deps, caller);
  registerListModelsTool(server, deps, caller);
  registerGetSettingsTool(server, deps, caller);
  registerUpdateSettingsTool(server, deps, caller);
  registerListHistoryTool(server, deps, caller);
  registerReplayTool(server, deps, caller);
  registerDeleteHistoryItemTool(server, deps, caller);
  registerGetUsageTool(server, deps, caller);
  registerTextToSpeechTool(server, deps, caller);
  registerSearchVoicesTool(server, deps, caller);
  registerGetVoiceTool(server, deps, caller);
  registerSpeakDialogueTool(server, deps, caller);
  registerTextToSoundEffectsTool(server, deps, caller);
  registerSpeechToTextTool(server, deps, caller);
  registerSearchVoiceLibraryTool(server, deps, caller);
}
