/**
 * @module shared/canonical-json
 * RFC 8785 canonical JSON, the byte form that hashes and signatures cover.
 */
export { canonicalJson, canonicalJsonByteLength, canonicalJsonBytes } from './canonical-json.js';
