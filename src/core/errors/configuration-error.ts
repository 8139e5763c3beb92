import { TroupeError, type TroupeErrorOptions } from './troupe-error.js';

/** Where a bad value was found, so the message can point at it. */
export interface Location {
  file?: string;
  line?: number;
  /** 1-based, for syntax errors where the line alone is not enough. */
  column?: number;
  field?: string;
}

export function formatLocation(where: Location): string {
  const parts: string[] = [];
  if (where.file) parts.push(where.line ? `${where.file}:${where.line}${where.column ? `:${where.column}` : ''}` : where.file);
  if (where.field) parts.push(`field "${where.field}"`);
  return parts.join(', ');
}

/** A configuration, definition or option is wrong: the user must change it. Exit code 2. */
export class ConfigurationError extends TroupeError {
  readonly code: string = 'configuration_invalid';
  readonly fault = 'configuration' as const;
  readonly where: Location;

  constructor(message: string, where: Location = {}, options: TroupeErrorOptions = {}) {
    const at = formatLocation(where);
    super(at ? `${at}: ${message}` : message, { ...options, details: { ...where, ...options.details } });
    this.where = where;
  }
}
