// The prompt's version on its own: every input hash reads it, and a builtin build must not load the prompt (and its verify allow-list) for it.

/** Part of every lock entry's input hash: a new prompt makes every LLM-generated entry stale. */
export const PROMPT_VERSION = 'poet-llm-1'
