// The structured reply the model must give: a zod schema (the single source for the JSON schema sent and the parse).
import { z } from 'zod'

const example = z.object({
  json: z.string().describe('A JSON text. For arguments: a JSON array with one element per parameter. For results: the JSON value.'),
  valid: z.boolean().describe('Whether the phase must accept it.'),
  why: z.string().describe('One short sentence.'),
})

/** Strict structured output wants every key present: optional values are `null`, never missing. */
export const PhaseReply = z.object({
  perceive: z.string().nullable().describe('Body of `function perceive(args, ctx)`, or null to keep no input validation.'),
  enforce: z.string().nullable().describe('Body of `function enforce(result, ctx)`, or null to keep no output validation.'),
  helpers: z.string().nullable().describe('Extra module-level `function` / `const` declarations your bodies use, or null.'),
  policy: z.object({
    attempts: z.number().int().nullable(),
    timeout: z.number().int().nullable(),
    retryOn: z.enum(['transient', 'any']).nullable(),
  }),
  argExamples: z.array(example),
  resultExamples: z.array(example),
  variants: z
    .array(z.object({ name: z.string(), body: z.string().describe('Body of `function operate(<same parameters>)`.'), rationale: z.string() }))
    .nullable()
    .describe('Only when optimizeFor is set: alternative implementations of the function itself. Otherwise null.'),
  notes: z.string().describe('What you improved over the baseline, in one or two sentences.'),
})

export type PhaseReply = z.infer<typeof PhaseReply>
