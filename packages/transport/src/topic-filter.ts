/**
 * Topic filters: `imu` matches exactly `imu`; a filter ending in `*` matches every topic that
 * starts with what comes before it (`sensors/*` matches `sensors/imu` and `sensors/cam/left`);
 * `*` alone matches everything. No filters: everything.
 */
export type TopicFilter = (topic: string) => boolean

export function compileTopicFilter(filters: readonly string[] | undefined): TopicFilter {
  if (filters === undefined || filters.length === 0 || filters.includes('*')) return () => true
  const exact = new Set<string>()
  const prefixes: string[] = []
  for (const filter of filters) {
    if (filter.endsWith('*')) prefixes.push(filter.slice(0, -1))
    else exact.add(filter)
  }
  return (topic) => exact.has(topic) || prefixes.some((prefix) => topic.startsWith(prefix))
}
