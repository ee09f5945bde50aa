// earshot-aws.py signs its AWS calls itself (the minimal image has no AWS CLI): its Signature Version 4 must be the
// AWS SDK's, byte for byte. The Python function runs for real; @smithy/signature-v4 (the JS SDK's signer) signs the
// same requests.
import { execFile } from 'node:child_process';
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { proxyAssetsDir } from '../src/proxy/render.js';

const run = promisify(execFile);
const script = fileURLToPath(new URL('earshot-aws.py', proxyAssetsDir));
const keys = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  sessionToken: 'tok/en+=',
};
const now = new Date('2026-11-30T12:34:56Z');

const bytes = (data: string | ArrayBuffer | ArrayBufferView): string | Uint8Array =>
  typeof data === 'string'
    ? data
    : data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);

/** The SDK's checksum interface over node:crypto (SHA-256, or HMAC-SHA256 with a secret). */
class NodeSha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(bytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
  reset(): void {}
}

interface Case {
  readonly name: string;
  readonly service: string;
  readonly method: string;
  readonly host: string;
  readonly path: string;
  readonly query?: Record<string, string>;
  readonly headers: Record<string, string>;
  readonly body: string;
}

const cases: Case[] = [
  {
    name: 'ECS ListTasks (JSON, x-amz-target)',
    service: 'ecs',
    method: 'POST',
    host: 'ecs.us-east-1.amazonaws.com',
    path: '/',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'AmazonEC2ContainerServiceV20141113.ListTasks',
    },
    body: '{"cluster":"Earshot","desiredStatus":"RUNNING"}',
  },
  {
    name: 'Route 53 UPSERT (XML, a path with the zone)',
    service: 'route53',
    method: 'POST',
    host: 'route53.amazonaws.com',
    path: '/2013-04-01/hostedzone/Z0EXAMPLE0123456789/rrset/',
    headers: { 'content-type': 'text/xml' },
    body: '<ChangeResourceRecordSetsRequest/>',
  },
  {
    name: 'S3 PutObject (payload hash header, a key with odd characters)',
    service: 's3',
    method: 'PUT',
    host: 'earshot-data.s3.us-east-1.amazonaws.com',
    path: '/proxy/letsencrypt%20backup.tar.gz',
    headers: { 'content-type': 'application/gzip' },
    body: 'tar bytes',
  },
  {
    name: 'a query string',
    service: 'monitoring',
    method: 'GET',
    host: 'monitoring.us-east-1.amazonaws.com',
    path: '/',
    query: { Version: '2010-08-01', Action: 'ListMetrics', Namespace: 'Earshot/Proxy' },
    headers: {},
    body: '',
  },
  {
    name: 'a non-S3 path that needs escaping (encoded twice, unlike S3)',
    service: 'ecs',
    method: 'GET',
    host: 'ecs.us-east-1.amazonaws.com',
    path: '/a%20b/c%2Fd',
    headers: {},
    body: '',
  },
];

async function pythonSign(c: Case): Promise<Record<string, string>> {
  const query = new URLSearchParams(c.query ?? {}).toString();
  const url = `https://${c.host}${c.path}${query ? `?${query}` : ''}`;
  const program = [
    'import datetime, importlib.util, json, sys',
    'spec = importlib.util.spec_from_file_location("earshot_aws", sys.argv[1])',
    'mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)',
    'a = json.loads(sys.argv[2])',
    'now = datetime.datetime.fromisoformat(a["now"].replace("Z", "+00:00"))',
    'keys = (a["keys"]["accessKeyId"], a["keys"]["secretAccessKey"], a["keys"]["sessionToken"])',
    'print(json.dumps(mod.sign(a["method"], a["url"], a["headers"], a["body"].encode(), a["region"], a["service"], keys, now)))',
  ].join('\n');
  const args = JSON.stringify({ ...c, url, keys, now: now.toISOString(), region: 'us-east-1' });
  const { stdout } = await run('python3', ['-c', program, script, args]);
  return JSON.parse(stdout) as Record<string, string>;
}

async function sdkSign(c: Case): Promise<Record<string, string>> {
  const signer = new SignatureV4({
    credentials: keys,
    region: 'us-east-1',
    service: c.service,
    sha256: NodeSha256,
    // S3 signs the path as sent; other services escape it once more (both as the SDK clients configure it).
    uriEscapePath: c.service !== 's3',
    applyChecksum: c.service === 's3',
  });
  const signed = await signer.sign(
    {
      method: c.method,
      protocol: 'https:',
      hostname: c.host,
      // Encoded, as the SDK's serializers hand it to the signer.
      path: c.path,
      query: c.query ?? {},
      headers: { host: c.host, ...c.headers },
      body: c.body,
    },
    { signingDate: now },
  );
  return Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
}

describe('earshot-aws SigV4', () => {
  it.each(cases)('signs $name exactly as the AWS SDK does', async (c) => {
    const [python, sdk] = await Promise.all([pythonSign(c), sdkSign(c)]);
    expect(python.authorization).toBe(sdk.authorization);
    expect(python['x-amz-date']).toBe(sdk['x-amz-date']);
    expect(python['x-amz-security-token']).toBe(keys.sessionToken);
  });
});
