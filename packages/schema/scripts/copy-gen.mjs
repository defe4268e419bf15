#!/usr/bin/env node
// Copies the generated static module (plain JS + declarations) into dist/gen/ after `tsc`: tsc compiles
// src/gen/descriptor.ts itself but never copies .js or .d.ts inputs. dist/index.js imports
// './gen/shoal.js', so without this step the built package fails at import time.
import { copyFile, mkdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..')
const from = join(packageDir, 'src', 'gen')
const to = join(packageDir, 'dist', 'gen')

await mkdir(to, { recursive: true })
for (const file of ['shoal.js', 'shoal.d.ts']) {
  await copyFile(join(from, file), join(to, file))
}
