import type { PlopTypes } from '@turbo/gen'

/**
 * The first prompt of a generator, made so that `--args` answers it and every later prompt not
 * answered by `--args` is skipped (its default applies, see each generator's `answersOf`) rather
 * than asked: `turbo gen NAME --args x` runs with no terminal. Plop calls a prompt's `bypass` only
 * for answers given on the command line, in order, so the first one marks the run as scripted.
 * (A prompt with a `when` function cannot be answered by `--args`, hence `when = false`, a value.)
 */
export function firstPrompt(
  prompt: PlopTypes.PromptQuestion,
  later: readonly PlopTypes.PromptQuestion[],
): PlopTypes.PromptQuestion {
  return {
    ...prompt,
    bypass: (value: string) => {
      for (const question of later) question.when = false
      return value
    },
  } as PlopTypes.PromptQuestion
}

/** `a, b/*` → `['a', 'b/*']`. */
export function list(value: unknown): string[] {
  return String(value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
}

export const camel = (name: string) => name.replace(/[-_]([a-z0-9])/g, (_, c: string) => c.toUpperCase())
export const pascal = (name: string) => camel(name).replace(/^[a-z]/, (c) => c.toUpperCase())
export const snake = (name: string) => name.replace(/-/g, '_')
