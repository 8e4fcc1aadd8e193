/**
 * What the client and the server agree on: the settings section and its shape, and the custom
 * messages between them. One module, imported by both sides.
 */

/** Every setting lives under this prefix. */
export const SETTINGS_SECTION = 'dockerfileCacheLens';

/** The settings for one resource (a Dockerfile), as `workspace/configuration` returns them. */
export interface CacheLensSettings {
  diagnostics: {
    /** Report what BuildKit's parser would reject. */
    syntax: boolean;
  };
}

export const DEFAULT_SETTINGS: CacheLensSettings = {
  diagnostics: { syntax: true },
};

/** Fills in defaults for whatever the client did not send (older clients, partial configuration). */
export function normalizeSettings(raw: unknown): CacheLensSettings {
  const r = (typeof raw === 'object' && raw !== null ? raw : {}) as { diagnostics?: { syntax?: unknown } };
  return {
    diagnostics: {
      syntax: typeof r.diagnostics?.syntax === 'boolean' ? r.diagnostics.syntax : DEFAULT_SETTINGS.diagnostics.syntax,
    },
  };
}

/** The language id VS Code gives Dockerfiles (`Dockerfile`, `*.Dockerfile`, `Dockerfile.*`, `Containerfile`). */
export const DOCKERFILE_LANGUAGE_ID = 'dockerfile';
