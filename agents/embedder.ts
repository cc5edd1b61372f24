/** One embedding model, whatever serves it. Vectors come back normalised, so a dot product is the cosine. */
export interface Embedder {
  /** The name vectors are stored under: two models never share an index. */
  readonly model: string;
  /** Texts per call that suit this model's endpoint. */
  readonly batchSize: number;
  embed(texts: readonly string[]): Promise<Float32Array[]>;
}

export const noEmbedder = (provider: string) =>
  `the ${provider} provider has no embedding model: set embeddings.model in muse.config.json (or MUSE_EMBEDDING_MODEL) to an OpenAI-compatible /v1/embeddings model; without one, retrieval is full-text search alone`;

/** Scales a vector to length 1 in place, as the contract above promises every embedder's output. */
export function normalise(v: Float32Array): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n);
  if (n > 0) for (let i = 0; i < v.length; i++) v[i] /= n;
  return v;
}
