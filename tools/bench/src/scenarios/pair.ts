/**
 * One measurement with a receiver and a sender process: start the receiver, wait until it has
 * joined, start the sender, wait for both reports. Every wait is bounded and both processes are
 * killed on the way out, whatever happened.
 */
import type { BenchContext } from '../context.js'
import { CpuWindow } from '../interference.js'
import type { ReceiverReport, SenderReport } from '../protocol.js'
import type { WorkerName } from '../worker.js'

export interface PairSpec {
  receiver: WorkerName
  sender: WorkerName
  receiverConfig: object
  senderConfig: object
  /** How long the sender may take, ms; the receiver gets a little longer. */
  sendMs: number
  /** Profile both processes as `<profile>-sender` and `<profile>-receiver`. */
  profile?: string
}

export interface PairResult {
  sent: SenderReport
  received: ReceiverReport
  /** Cores other processes used meanwhile (see interference.ts). */
  othersCores: number | undefined
}

const READY_MS = 10_000
/** After the sender's report (it has sent its end markers by then), how long the receiver has to report. */
const AFTER_SENDER_MS = 2_000
const AFTER_STOP_MS = 5_000

export async function runPair(ctx: BenchContext, spec: PairSpec): Promise<PairResult> {
  const window = new CpuWindow()
  const receiverDeadline = spec.sendMs + READY_MS + AFTER_SENDER_MS
  const receiver = ctx.start(
    spec.receiver,
    'receiver',
    { ...spec.receiverConfig, deadlineMs: receiverDeadline },
    receiverDeadline + AFTER_STOP_MS,
    spec.profile === undefined ? undefined : `${spec.profile}-receiver`,
  )
  let sender: ReturnType<BenchContext['start']> | undefined
  try {
    await receiver.waitFor('ready', READY_MS)
    sender = ctx.start(
      spec.sender,
      'sender',
      { ...spec.senderConfig, deadlineMs: spec.sendMs },
      spec.sendMs + AFTER_STOP_MS,
      spec.profile === undefined ? undefined : `${spec.profile}-sender`,
    )
    const sent = await sender.waitFor<SenderReport>('result', spec.sendMs + READY_MS)
    await sender.exit(AFTER_STOP_MS)
    let received: ReceiverReport
    try {
      received = await receiver.waitFor<ReceiverReport>('result', AFTER_SENDER_MS)
    } catch {
      // The end markers were lost: ask the receiver to report what it has.
      receiver.stop()
      received = await receiver.waitFor<ReceiverReport>('result', AFTER_STOP_MS)
    }
    await receiver.exit(AFTER_STOP_MS)
    return { sent, received, othersCores: window.othersCores((sent.cpuUs ?? 0) + (received.cpuUs ?? 0)) }
  } finally {
    sender?.kill()
    receiver.kill()
  }
}
