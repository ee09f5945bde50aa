/**
 * Settings in DynamoDB: one attribute per field (`s_<field>`, and `v_<name>` per voice setting, JSON
 * values), so a patch is one UpdateItem that SETs only its own fields — concurrent patches of different
 * fields never overwrite each other and never need a retry.
 */
import type { UserSettings } from '@earshot/protocol';
import type { SettingsPatch } from '../contract.js';
import { StoreInputError } from '../errors.js';
import { withDefaults } from '../shared.js';
import { pk, type TableClient } from './table-client.js';

const ATTRIBUTE = /^[sv]_[A-Za-z][A-Za-z0-9_]{0,63}$/;

export async function readSettings(table: TableClient, user: string): Promise<UserSettings> {
  return settingsFrom(await table.get('read settings', { PK: pk(user), SK: 'settings' }));
}

export async function patchSettings(
  table: TableClient,
  user: string,
  patch: SettingsPatch,
): Promise<UserSettings> {
  const names: Record<string, string> = {};
  const values: Record<string, string> = {};
  const sets: string[] = [];
  const set = (attribute: string, value: unknown) => {
    if (!ATTRIBUTE.test(attribute))
      throw new StoreInputError(`invalid settings field ${JSON.stringify(attribute)}`);
    const n = sets.length;
    names[`#f${n}`] = attribute;
    values[`:v${n}`] = JSON.stringify(value);
    sets.push(`#f${n} = :v${n}`);
  };
  for (const [field, value] of Object.entries(patch)) {
    if (value !== undefined && field !== 'voiceSettings') set(`s_${field}`, value);
  }
  for (const [field, value] of Object.entries(patch.voiceSettings ?? {})) {
    if (value !== undefined) set(`v_${field}`, value);
  }
  if (sets.length === 0) return readSettings(table, user);
  const attributes = await table.update('save settings', {
    Key: { PK: pk(user), SK: 'settings' },
    UpdateExpression: `SET ${sets.join(', ')}`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
    ReturnValues: 'ALL_NEW',
  });
  return settingsFrom(attributes);
}

function settingsFrom(attributes: Record<string, unknown> | undefined): UserSettings {
  const saved: Record<string, unknown> = {};
  const voiceSettings: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (typeof value !== 'string') continue;
    if (name.startsWith('s_')) saved[name.slice(2)] = JSON.parse(value);
    else if (name.startsWith('v_')) voiceSettings[name.slice(2)] = JSON.parse(value);
  }
  return withDefaults({ ...saved, voiceSettings });
}
