/**
 * Shoal topics as NATS subjects, and back: `PREFIX.` then the topic with `/` as `.`, so a NATS user
 * subscribes to `PREFIX.sensors.>` for every topic under `sensors/`. NATS subject tokens may not be
 * empty or hold `.`, `*`, `>` or whitespace; Shoal topics are any UTF-8 of 1-255 bytes. Within each
 * `/`-separated part, every byte outside `A-Z a-z 0-9 _ -` is written `%XX` (its UTF-8 bytes, hex
 * upper case, as in a URL) and an empty part is written `%`, so the mapping is one to one and
 * reversible: `cam 1/raw.v2` → `PREFIX.cam%201.raw%2Ev2`, `a//b` → `PREFIX.a.%.b`.
 */

/** A prefix: one or more tokens of `A-Z a-z 0-9 _ -`, separated by `.` (e.g. `site-a.shoal`). */
export const PREFIX_PATTERN = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/
/** Longest prefix accepted, characters (NATS subjects have no hard limit; ours keep headers small). */
export const MAX_PREFIX_LENGTH = 128

const PLAIN = /^[A-Za-z0-9_-]$/
const EMPTY_PART = '%'

/** Why a prefix is not one, or undefined when it is. */
export function prefixProblem(prefix: string): string | undefined {
  if (prefix.length > MAX_PREFIX_LENGTH)
    return `prefix is ${prefix.length} characters; at most ${MAX_PREFIX_LENGTH}`
  if (!PREFIX_PATTERN.test(prefix))
    return `prefix ${JSON.stringify(prefix)}: expected NATS subject tokens of A-Z a-z 0-9 _ - separated by dots, e.g. site-a.shoal`
  return undefined
}

function encodePart(part: string): string {
  if (part === '') return EMPTY_PART
  let out = ''
  for (const char of part) {
    if (PLAIN.test(char)) out += char
    else
      for (const byte of Buffer.from(char, 'utf8'))
        out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

/** The subject of `topic` under `prefix`. */
export function topicToSubject(prefix: string, topic: string): string {
  return `${prefix}.${topic.split('/').map(encodePart).join('.')}`
}

/** The topic of a subject under `prefix`; undefined when the subject is not one {@link topicToSubject} writes. */
export function subjectToTopic(prefix: string, subject: string): string | undefined {
  if (!subject.startsWith(`${prefix}.`)) return undefined
  const parts = subject.slice(prefix.length + 1).split('.')
  const decoded: string[] = []
  for (const part of parts) {
    if (part === EMPTY_PART) {
      decoded.push('')
      continue
    }
    if (!/^(?:[A-Za-z0-9_-]|%[0-9A-F]{2})+$/.test(part)) return undefined
    try {
      decoded.push(decodeURIComponent(part))
    } catch {
      return undefined // not UTF-8
    }
  }
  const topic = decoded.join('/')
  // Only the canonical spelling maps back (no `%41` for `A`): one subject per topic.
  return topicToSubject(prefix, topic) === subject ? topic : undefined
}
