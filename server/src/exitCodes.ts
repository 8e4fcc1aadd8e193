/** The CLI's exit codes, one meaning each, for scripts and CI to act on. */
export const EXIT = {
  ok: 0,
  /** Syntax errors in the Dockerfile; a lint rule of severity error. */
  problems: 1,
  usage: 2,
  /** The Dockerfile does not exist (in the working tree, or at a revision `impact` reads). */
  notFound: 3,
  docker: 4,
  buildFailed: 5,
  /** impact --fail-on: a matching step would rerun. */
  rerun: 6,
  /** impact: not in a git repository (or no git, or the context outside the repository). */
  notARepository: 7,
  /** impact: a revision git does not know. */
  unknownRevision: 8,
  /** impact: the revision is beyond a shallow clone's history. */
  shallow: 9,
  /** impact: a submodule's commit is in no local repository. */
  submodule: 10,
  cancelled: 130,
} as const;
