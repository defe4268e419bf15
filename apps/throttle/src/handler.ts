/**
 * What shoal-throttle does with each frame it receives, apart from any socket: the place to write the
 * service's logic. Pure, so it is unit-tested without a network (handler.test.ts).
 */

/** A frame as it came in: its topic, its type's fingerprint and the encoded message. */
export interface InFrame {
  readonly topic: string
  readonly fingerprint: number
  readonly payload: Uint8Array
}

/** A frame to publish: the same shape, on the output. */
export type OutFrame = InFrame

/** Why a frame received was not published (counted on /metrics by reason). */
export const DROP_REASONS = ['send-failed', 'busy'] as const
export type DropReason = (typeof DROP_REASONS)[number]

export interface HandlerOptions {
  /** The topic to publish on; undefined keeps the frame's own. */
  readonly outTopic: string | undefined
}

/**
 * The frames to publish for one received: here, the frame itself on `outTopic` (or its own
 * topic). Return an empty list to publish nothing.
 */
export function handleFrame(frame: InFrame, options: HandlerOptions): OutFrame[] {
  return [{ ...frame, topic: options.outTopic ?? frame.topic }]
}
