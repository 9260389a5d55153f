/**
 * Declared options: each one has a config-file key, a flag and an environment variable, a parser
 * and a description, and is read from those three sources in that order of precedence (flag, then
 * environment, then file, then its default). The `rtcgate` CLI builds its flags and `--help` from
 * these tables, and the tests check the Docker files against them, so an option exists in one
 * place only.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { IceServer } from './protocol/index.js';

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(
    /** Where the bad value came from: `--port`, `PORT`, or `port (in FILE)`. */
    readonly option: string,
    problem: string,
  ) {
    super(`${option}: ${problem}`);
    this.name = 'ConfigError';
  }
}

export type OptionSource = 'flag' | 'env' | 'file' | 'default';

export interface OptionSpec<T = unknown> {
  /** The config-file key (camelCase). */
  key: string;
  /** The long flag, with its dashes: `--port`. */
  flag: string;
  /** The environment variable: `PORT`. */
  env: string;
  /** The placeholder in `--help`: `N`, `URL`, `FILE`. */
  valueName: string;
  description: string;
  /** The value when no source gives one (undefined: the option is unset). */
  default?: T;
  /** Shown as `***` wherever the effective configuration is printed. */
  secret?: boolean;
  /** For a value that holds secrets inside it (credentials of ICE servers, passwords in URLs): how it is shown. */
  // (Method syntax: a table of specs of any value type stays assignable to OptionTable.)
  mask?(value: T): unknown;
  /** A flag that may be given several times (its values are kept in order). */
  repeatable?: boolean;
  /**
   * Turns a raw value into the option's value or throws a ConfigError naming `where`. Flags and
   * environment variables give text (repeatable flags an array of text); a file gives whatever
   * JSON or YAML holds.
   */
  parse(value: unknown, where: string): T;
}

/** A table of options, by the name the program uses for each. */
export type OptionTable = Record<string, OptionSpec<unknown>>;

export type OptionValues<Table extends OptionTable> = {
  [K in keyof Table]: Table[K] extends OptionSpec<infer T> ? T : never;
};

export interface ConfigSources {
  /** Flag values by option key (what the argument parser gave), unset flags absent. */
  flags?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  /** A loaded config file. */
  file?: ConfigFile;
}

export interface ConfigFile {
  path: string;
  values: Record<string, unknown>;
}

export interface Resolved<Table extends OptionTable> {
  values: OptionValues<Table>;
  /** Where each option's value came from. */
  sources: Record<keyof Table, OptionSource>;
}

/** How a value from one source is named in an error. */
export function whereOf(spec: OptionSpec, source: OptionSource, file?: ConfigFile): string {
  switch (source) {
    case 'flag':
      return spec.flag;
    case 'env':
      return spec.env;
    case 'file':
      return `${spec.key} (in ${file?.path ?? 'the config file'})`;
    case 'default':
      return `${spec.flag} / ${spec.env}`;
  }
}

/**
 * Reads every option of `table` from the sources, flag first, then environment, then file. An
 * empty or blank environment variable counts as unset.
 */
export function resolveOptions<Table extends OptionTable>(
  table: Table,
  sources: ConfigSources,
): Resolved<Table> {
  const values: Record<string, unknown> = {};
  const from: Record<string, OptionSource> = {};
  for (const [name, spec] of Object.entries(table)) {
    const flag = sources.flags?.[spec.key];
    const env = sources.env?.[spec.env];
    const inFile = sources.file !== undefined && Object.hasOwn(sources.file.values, spec.key);
    let source: OptionSource;
    let raw: unknown;
    if (flag !== undefined) [source, raw] = ['flag', flag];
    else if (env !== undefined && env.trim() !== '') [source, raw] = ['env', env];
    else if (inFile) [source, raw] = ['file', sources.file?.values[spec.key]];
    else [source, raw] = ['default', undefined];
    values[name] = source === 'default' ? spec.default : spec.parse(raw, whereOf(spec, source, sources.file));
    from[name] = source;
  }
  return { values: values as OptionValues<Table>, sources: from as Record<keyof Table, OptionSource> };
}

/**
 * A config file, JSON (`.json`) or YAML (`.yaml`, `.yml`): one object whose keys are option keys.
 * A key that no table in `known` has is an error (a typo must not pass silently).
 */
export function loadConfigFile(file: string, known: readonly OptionTable[]): ConfigFile {
  const ext = path.extname(file).toLowerCase();
  if (!['.json', '.yaml', '.yml'].includes(ext)) {
    throw new ConfigError(file, 'a config file must end in .json, .yaml or .yml');
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, `cannot read it (${(err as Error).message})`);
  }
  let value: unknown;
  try {
    value = ext === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(file, `not valid ${ext === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
  }
  if (value === null || value === undefined) value = {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(file, 'must hold one object of option keys (e.g. "port: 8080")');
  }
  const keys = new Set(known.flatMap((t) => Object.values(t).map((s) => s.key)));
  for (const key of Object.keys(value)) {
    if (!keys.has(key)) {
      throw new ConfigError(
        `${key} (in ${file})`,
        `unknown option; the keys are ${[...keys].sort().join(', ')}`,
      );
    }
  }
  return { path: file, values: value as Record<string, unknown> };
}

/** The effective configuration as it may be logged: secrets masked, unset options left out. */
export function describeConfig<Table extends OptionTable>(
  table: Table,
  resolved: Resolved<Table>,
): Record<string, { value: unknown; from: OptionSource }> {
  const out: Record<string, { value: unknown; from: OptionSource }> = {};
  for (const [name, spec] of Object.entries(table)) {
    const value = (resolved.values as Record<string, unknown>)[name];
    if (value === undefined) continue;
    const shown = spec.secret ? '***' : spec.mask ? spec.mask(value) : value;
    out[spec.key] = { value: shown, from: resolved.sources[name] as OptionSource };
  }
  return out;
}

/** A URL with its password (and user name) shown as `***`. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password === '' && u.username === '') return url;
    if (u.username) u.username = '***';
    if (u.password) u.password = '***';
    return u.href;
  } catch {
    return url;
  }
}

/** ICE servers as they may be logged: each `credential` masked. */
export function maskIceServers(servers: IceServer[]): unknown {
  return servers.map((s) => (s.credential === undefined ? s : { ...s, credential: '***' }));
}

// Parsers ----------------------------------------------------------------------------------------

function show(value: unknown): string {
  return typeof value === 'string' ? `"${value}"` : JSON.stringify(value);
}

/** An integer from min to max, as text or (from a file) a number. */
export function intOption(min: number, max: number): (value: unknown, where: string) => number {
  return (value, where) => {
    const n =
      typeof value === 'number'
        ? value
        : typeof value === 'string' && /^\s*\d+\s*$/.test(value)
          ? Number(value)
          : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new ConfigError(where, `must be an integer from ${min} to ${max}; got ${show(value)}`);
    }
    return n;
  };
}

/** Non-empty text, trimmed. */
export function textOption(value: unknown, where: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ConfigError(where, `must be non-empty text; got ${show(value)}`);
  }
  return value.trim();
}

/** One of `choices`. */
export function choiceOption<const C extends string>(
  choices: readonly C[],
): (value: unknown, where: string) => C {
  return (value, where) => {
    if (typeof value === 'string' && (choices as readonly string[]).includes(value)) return value as C;
    throw new ConfigError(where, `must be one of ${choices.join(', ')}; got ${show(value)}`);
  };
}

/** A list: comma-separated text, or (from a file) an array of text. */
export function listOption(value: unknown, where: string): string[] {
  const items = typeof value === 'string' ? value.split(',') : value;
  if (!Array.isArray(items) || items.some((i) => typeof i !== 'string')) {
    throw new ConfigError(where, `must be a comma-separated list or an array of text; got ${show(value)}`);
  }
  return items.map((i: string) => i.trim()).filter((i) => i !== '');
}

/** JSON: text to parse, or (from a file) the value itself. */
export function jsonValue(value: unknown, where: string, what: string): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    throw new ConfigError(where, `must be ${what} in JSON`);
  }
}
