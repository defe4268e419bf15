import type { PlopTypes } from '@turbo/gen'

export function registerMessageTypeGenerator(_plop: PlopTypes.NodePlopAPI): void {}
