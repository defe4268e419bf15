/**
 * Shoal's generators (`pnpm turbo gen`, Plop through @turbo/gen):
 *
 * - `pnpm turbo gen service` (or `--args NAME`): a new service in apps/NAME (service.ts)
 * - `pnpm turbo gen message-type` (or `--args NAME`): a new message type in @shoal/schema
 *   (message-type.ts)
 *
 * With `--args`, the answers not given take their defaults and nothing is asked (bypass.ts), so
 * CI can run them (scripts/check-generators.mjs).
 */
import type { PlopTypes } from '@turbo/gen'
import { registerMessageTypeGenerator } from './message-type'
import { registerServiceGenerator } from './service'

export default function generator(plop: PlopTypes.NodePlopAPI): void {
  registerServiceGenerator(plop)
  registerMessageTypeGenerator(plop)
}
