// What the collector accepts in one event (src/train/validate.ts uses these): feedback is checked against the same numbers.
/** Characters of a function id or an execution id. */
export const MAX_ID = 512
/** Characters of a version. */
export const MAX_VERSION = 64
export const MAX_LABEL = 100
export const MAX_COMMENT = 2_000
/** Items of a list field (issues, repairs). */
export const MAX_LIST_ITEMS = 100
/** Characters of one text in a list item: an issue's path or rule, a repair's path, action or rule. */
export const MAX_ITEM_TEXT = 512
/** Characters of an execution event's error name. */
export const MAX_ERROR = 200
/** Keys of a map field (stats, metrics), and the length of one such key. */
export const MAX_MAP_KEYS = 64
export const MAX_KEY = 100
