import { TroupeError, type TroupeErrorOptions } from '../../core/errors/troupe-error.js';
import { defaultModel } from '../default-model.js';

/**
 * A replay model was asked a request its cassette has no recording of. Replay never guesses an
 * answer (a near match would make a test pass for the wrong reason): the request must be recorded.
 * `description` names the request (model, message count, last user text) so it can be found.
 */
export class ReplayMissError extends TroupeError {
  readonly code = 'replay_missing_recording';
  readonly fault = 'configuration' as const;
  readonly cassette: string;
  readonly key: string;
  readonly description: string;

  constructor(cassette: string, key: string, description: string, reason: string, options: TroupeErrorOptions = {}) {
    super(
      `Cassette ${cassette} has no recording for this request (key ${key}): ${description}. ${reason} ` +
        `To record it, run with TROUPE_RECORD=1 and TROUPE_RECORD_MODEL=<provider:model> (for example ${defaultModel}), ` +
        `or use new ReplayModel({ cassette, mode: 'auto', live }) with a live model.`,
      { ...options, details: { cassette, key, description, ...options.details } },
    );
    this.cassette = cassette;
    this.key = key;
    this.description = description;
  }
}
