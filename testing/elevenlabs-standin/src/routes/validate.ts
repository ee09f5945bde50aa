import {
  DEFAULT_OUTPUT_FORMAT,
  OUTPUT_FORMAT_IDS,
  parseOutputFormat,
  type OutputFormat,
} from '../audio/formats.js';
import type { ValidationIssue } from '../errors.js';

/** Collects FastAPI-style validation issues for one request. */
export class Checker {
  readonly issues: ValidationIssue[] = [];

  constructor(private readonly where: 'body' | 'query') {}

  get ok(): boolean {
    return this.issues.length === 0;
  }

  missing(field: string): void {
    this.issues.push({ loc: [this.where, field], msg: 'Field required', type: 'missing' });
  }

  string(field: string, value: unknown, required: boolean, min?: number, max?: number): string | undefined {
    if (value === undefined || value === null) {
      if (required) this.missing(field);
      return undefined;
    }
    if (typeof value !== 'string') {
      this.issues.push({
        loc: [this.where, field],
        msg: 'Input should be a valid string',
        type: 'string_type',
        input: value,
      });
      return undefined;
    }
    if (min !== undefined && value.length < min) {
      this.issues.push({
        loc: [this.where, field],
        msg: `String should have at least ${min} characters`,
        type: 'string_too_short',
        input: value,
      });
    }
    if (max !== undefined && value.length > max) {
      this.issues.push({
        loc: [this.where, field],
        msg: `String should have at most ${max} characters`,
        type: 'string_too_long',
        input: value,
      });
    }
    return value;
  }

  number(field: string, value: unknown, min: number, max: number, integer = false): number | undefined {
    if (value === undefined || value === null) return undefined;
    const parsed = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    if (typeof parsed !== 'number' || !Number.isFinite(parsed) || (integer && !Number.isInteger(parsed))) {
      this.issues.push({
        loc: [this.where, field],
        msg: integer ? 'Input should be a valid integer' : 'Input should be a valid number',
        type: integer ? 'int_parsing' : 'float_parsing',
        input: value,
      });
      return undefined;
    }
    if (parsed < min) {
      this.issues.push({
        loc: [this.where, field],
        msg: `Input should be greater than or equal to ${min}`,
        type: 'greater_than_equal',
        input: value,
      });
    } else if (parsed > max) {
      this.issues.push({
        loc: [this.where, field],
        msg: `Input should be less than or equal to ${max}`,
        type: 'less_than_equal',
        input: value,
      });
    }
    return parsed;
  }

  boolean(field: string, value: unknown): boolean | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'boolean') return value;
    if (value === 'true' || value === '1') return true;
    if (value === 'false' || value === '0') return false;
    this.issues.push({
      loc: [this.where, field],
      msg: 'Input should be a valid boolean',
      type: 'bool_parsing',
      input: value,
    });
    return undefined;
  }

  oneOf<T extends string>(field: string, value: unknown, allowed: readonly T[]): T | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
    this.issues.push({
      loc: [this.where, field],
      msg: `Input should be ${allowed.map((id) => `'${id}'`).join(', ')}`,
      type: 'enum',
      input: value,
    });
    return undefined;
  }
}

/** The `output_format` query parameter (Opus is refused by the caller, as for text to speech). */
export function readOutputFormat(
  query: URLSearchParams,
  issues: ValidationIssue[],
  fallback = DEFAULT_OUTPUT_FORMAT,
): OutputFormat | undefined {
  const id = query.get('output_format') ?? fallback;
  const format = parseOutputFormat(id);
  if (!format) {
    issues.push({
      loc: ['query', 'output_format'],
      msg: `Input should be ${OUTPUT_FORMAT_IDS.map((value) => `'${value}'`).join(', ')}`,
      type: 'enum',
      input: id,
    });
  }
  return format;
}
