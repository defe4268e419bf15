import { readFileSync, writeFileSync } from 'node:fs'

export interface GeneratedSection {
  /** The text now between the markers. */
  readonly actual: string
  /** The text that should be there. */
  readonly expected: string
  /** Whether the file was rewritten (only when asked to and it differed). */
  readonly written: boolean
}

/**
 * Compares the text between `<!-- <marker>:start -->` and `<!-- <marker>:end -->` in a file with
 * `content`, and rewrites it when `write` is true: README tables generated from code stay current,
 * because a test fails when they drift and one command regenerates them.
 */
export function syncGeneratedSection(
  file: string,
  marker: string,
  content: string,
  options: { readonly write?: boolean } = {},
): GeneratedSection {
  const text = readFileSync(file, 'utf8')
  const start = `<!-- ${marker}:start -->\n`
  const end = `<!-- ${marker}:end -->`
  const from = text.indexOf(start)
  const to = text.indexOf(end, from)
  if (from === -1 || to === -1) throw new Error(`${file} has no ${start.trim()} … ${end} section`)
  const actual = text.slice(from + start.length, to)
  const written = options.write === true && actual !== content
  if (written) writeFileSync(file, text.slice(0, from + start.length) + content + text.slice(to))
  return { actual, expected: content, written }
}
