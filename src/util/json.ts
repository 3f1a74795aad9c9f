/** A JSON value as JSON.parse returns it: the type of plans, dataset.json and checkpoint metadata. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
