/** A JSON value as JSON.parse returns it: the type of plans, dataset.json and checkpoint metadata. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A plain-data object (plans, dataset.json) as a JsonValue: a JSON round trip, so it is JSON by construction. */
export function toJsonValue(value: unknown): JsonValue {
  return JSON.parse(JSON.stringify(value)) as JsonValue;
}
