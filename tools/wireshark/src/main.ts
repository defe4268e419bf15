/** `pnpm build`: writes shoal.lua next to package.json from the current wire constants and schema. */
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { generateDissector } from './generate.js'

const target = fileURLToPath(new URL('../shoal.lua', import.meta.url))
writeFileSync(target, generateDissector())
