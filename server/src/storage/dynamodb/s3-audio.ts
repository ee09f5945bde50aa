/**
 * Audio in S3 at `s3://BUCKET/PREFIX/audio/<user>/<id>.audio` (under `audio/`, the prefix the bucket's
 * lifecycle rule expires). Clips stream into a multipart upload (lib-storage) as they arrive: memory stays
 * bounded by one part, and the object appears only when the upload completes — S3's own "temporary name".
 */
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { PassThrough, Readable } from 'node:stream';
import type { AudioSink, StoredAudio } from '../contract.js';
import { AudioMissingError, AudioNotKeptError, type StoreError } from '../errors.js';
import { exactLength } from '../shared.js';
import { awsError, isS3NotFound } from './aws-errors.js';

/** Bytes queued for the upload past this mean S3 cannot keep up: the clip is dropped, playback goes on. */
const MAX_PENDING_BYTES = 8 * 1024 * 1024;
/** S3's smallest multipart part; a clip below it goes up as one PutObject. */
const PART_BYTES = 5 * 1024 * 1024;

export interface S3Location {
  readonly bucket: string;
  /** Key prefix without slashes at either end; '' for the bucket root. */
  readonly prefix: string;
}

export class S3Audio {
  private readonly inFlight = new Set<Promise<unknown>>();
  private lastProbe = 0;

  constructor(
    private readonly client: S3Client,
    private readonly location: S3Location,
  ) {}

  key(user: string, id: string): string {
    return this.join('audio', user, `${id}.audio`);
  }

  openSink(user: string, id: string, maxBytes: number): AudioSink {
    const sink = new S3AudioSink(this.client, this.location.bucket, this.key(user, id), maxBytes);
    const settled = sink.settled.catch(() => undefined);
    this.inFlight.add(settled);
    void settled.finally(() => this.inFlight.delete(settled));
    return sink;
  }

  async read(user: string, id: string, bytes: number): Promise<StoredAudio> {
    const key = this.key(user, id);
    let body: Readable;
    let length: number;
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.location.bucket, Key: key }));
      body = object.Body instanceof Readable ? object.Body : Readable.from([]);
      length = object.ContentLength ?? 0;
    } catch (error) {
      if (isS3NotFound(error))
        throw new AudioMissingError('missing', `The audio of ${id} is missing (s3 key ${key}).`);
      throw awsError(error, `read s3://${this.location.bucket}/${key}`);
    }
    if (length < bytes) {
      body.destroy();
      throw new AudioMissingError(
        'short',
        `The audio of ${id} has ${length} of its ${bytes} bytes (s3 key ${key}).`,
      );
    }
    return { stream: exactLength(body, bytes, `The audio of ${id}`), bytes };
  }

  async remove(user: string, id: string): Promise<void> {
    const key = this.key(user, id);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.location.bucket, Key: key }));
    } catch (error) {
      throw awsError(error, `delete s3://${this.location.bucket}/${key}`);
    }
  }

  /** Writes a small object, at most once per `intervalMs` (S3 PUTs cost more than the readiness poll is worth). */
  async probe(now: number, intervalMs: number): Promise<void> {
    if (now - this.lastProbe < intervalMs) return;
    const key = this.join('.earshot-ready');
    try {
      await this.client.send(
        new PutObjectCommand({ Bucket: this.location.bucket, Key: key, Body: String(now) }),
      );
    } catch (error) {
      throw awsError(error, `write s3://${this.location.bucket}/${key}`);
    }
    this.lastProbe = now;
  }

  async drain(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  private join(...parts: string[]): string {
    return [this.location.prefix, ...parts].filter((part) => part !== '').join('/');
  }
}

class S3AudioSink implements AudioSink {
  private readonly body = new PassThrough();
  private readonly upload: Upload;
  private readonly uploaded: Promise<unknown>;
  private bytes = 0;
  private failure: StoreError | undefined;
  private finishing: Promise<number> | undefined;
  private readonly outcome = Promise.withResolvers<number>();
  readonly settled = this.outcome.promise;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly key: string,
    private readonly maxBytes: number,
  ) {
    this.settled.catch(() => undefined);
    this.upload = new Upload({
      client,
      params: { Bucket: bucket, Key: key, Body: this.body, ContentType: 'application/octet-stream' },
      partSize: PART_BYTES,
      queueSize: 1,
      leavePartsOnError: false,
    });
    this.uploaded = this.upload.done();
    this.uploaded.catch(() => undefined);
  }

  write(chunk: Uint8Array): void {
    if (this.failure || this.finishing) return;
    if (this.bytes + chunk.byteLength > this.maxBytes) {
      return this.fail(
        new AudioNotKeptError('too_large', `The clip passed ${this.maxBytes} bytes; it is not kept.`),
      );
    }
    if (this.body.writableLength + chunk.byteLength > MAX_PENDING_BYTES) {
      return this.fail(
        new AudioNotKeptError('too_slow', 'S3 fell too far behind the audio; the clip is not kept.'),
      );
    }
    this.bytes += chunk.byteLength;
    this.body.write(chunk); // kept as it is: audio is handed over, never changed after (SynthesisEvent)
  }

  finish(): Promise<number> {
    if (!this.finishing) {
      this.finishing = this.complete();
      this.finishing.then(this.outcome.resolve, this.outcome.reject);
    }
    return this.finishing;
  }

  abort(): void {
    this.fail(new AudioNotKeptError('aborted', 'The clip was aborted.'));
    void this.finish().catch(() => undefined);
  }

  private fail(error: StoreError): void {
    if (this.failure) return;
    this.failure = error;
    void this.upload.abort().catch(() => undefined);
    this.body.destroy();
  }

  private async complete(): Promise<number> {
    if (!this.failure) this.body.end();
    try {
      await this.uploaded;
    } catch (error) {
      throw this.failure ?? awsError(error, `upload s3://${this.bucket}/${this.key}`);
    }
    if (this.failure) {
      // The upload won the race with the abort: take the object away again.
      await this.client
        .send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key }))
        .catch(() => undefined);
      throw this.failure;
    }
    return this.bytes;
  }
}
