/** Every way the harness reports failure. */
export type NetnsErrorCode =
  | 'NETNS_UNAVAILABLE'
  | 'NETNS_BAD_TOPOLOGY'
  | 'NETNS_COMMAND_FAILED'
  | 'NETNS_UNKNOWN_HOST'
  | 'NETNS_UNKNOWN_SEGMENT'
  | 'NETNS_DESTROYED'
  | 'NETNS_TIMEOUT'

export interface NetnsErrorOptions {
  code: NetnsErrorCode
  cause?: unknown
}

export class NetnsError extends Error {
  override readonly name = 'NetnsError'
  readonly code: NetnsErrorCode

  constructor(message: string, options: NetnsErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = options.code
  }
}

export function isNetnsError(value: unknown): value is NetnsError {
  return value instanceof NetnsError
}
