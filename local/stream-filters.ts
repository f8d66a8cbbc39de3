/**
 * Event filtering for stream event source mappings (`filterCriteria.filters[].pattern`), as
 * Lambda applies it: a record is delivered when any pattern matches; the others count as
 * processed. Patterns use EventBridge's syntax (the matcher the asynchronous sources use).
 */
import { compilePattern, PatternMatcher } from "./event-patterns";

/** Whether a record (in its filtering shape) should reach the function. */
export type RecordFilter = (document: unknown) => boolean;

/** The filter for a mapping's patterns (JSON strings); no patterns let everything through. */
export function recordFilter(patterns: string[], mappingName: string): RecordFilter {
  const matchers = patterns.map((pattern): PatternMatcher => {
    try {
      // A pattern Lambda would refuse fails here, at start, not per record.
      return compilePattern(JSON.parse(pattern), "EventBridge");
    } catch (error) {
      throw new Error(`Mapping ${mappingName}: filter pattern ${pattern} is not a valid pattern (${(error as Error).message}).`);
    }
  });
  if (matchers.length === 0) return () => true;
  return (document) => matchers.some((matches) => matches(document));
}
