import { CLOSE_REPAIR_MAX_MS, FLOW_RECEIVER_TIMEOUT_MS } from '@shoal/transport'
import { expect, it } from 'vitest'
import { DEFAULT_STOP_TIMEOUT_MS } from './run-service.js'

it("a service's stop outlasts what its publishers may wait for on close, with room to spare", () => {
  // A publisher's close() waits up to CLOSE_REPAIR_MAX_MS for receivers that report (one that left
  // is held for FLOW_RECEIVER_TIMEOUT_MS); a stop cut at that moment exited 1 after a good run.
  expect(DEFAULT_STOP_TIMEOUT_MS).toBeGreaterThanOrEqual(
    Math.max(CLOSE_REPAIR_MAX_MS, FLOW_RECEIVER_TIMEOUT_MS) + 2_000,
  )
})
