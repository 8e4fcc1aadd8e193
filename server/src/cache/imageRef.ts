/**
 * Docker image references as BuildKit normalises them for its progress names
 * (`node:20-alpine` -> `docker.io/library/node:20-alpine`).
 */

/** reference.ParseNormalizedNamed + TagNameOnly. Returns the input unchanged when it is not a plain reference. */
export function normalizeImageRef(ref: string): string {
  if (ref === '' || /\s/.test(ref)) return ref;
  let name = ref;
  let digest = '';
  const at = name.indexOf('@');
  if (at >= 0) {
    digest = name.slice(at);
    name = name.slice(0, at);
  }
  let tag = '';
  const lastSlash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = name.slice(colon);
    name = name.slice(0, colon);
  }
  const first = name.split('/')[0] ?? '';
  const hasDomain = name.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase());
  if (!hasDomain) {
    name = name.includes('/') ? `docker.io/${name}` : `docker.io/library/${name}`;
  }
  if (tag === '' && digest === '') tag = ':latest';
  return name + tag + digest;
}
