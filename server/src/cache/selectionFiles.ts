/**
 * The files of a build's COPY selections as a record keeps them: a few inline, many in a list kept
 * beside the manifest and named by id. Each selection is listed once (the same `COPY . .` in
 * several stages shares one list). Shared by recording a build and by `impact`'s base records.
 */

import { fileListId, INLINE_FILES } from './manifest';
import type { ContextSelection } from './steps';
import type { StepInputs } from './types';

export type RecordedFiles = Pick<StepInputs, 'files' | 'filesRef' | 'fileCount'>;

export interface SelectionLister {
  /** The record's view of a selection's files. */
  filesOf(sel: ContextSelection): RecordedFiles;
  /** The long lists, by id, of the selections listed so far. */
  readonly lists: Map<string, Array<{ path: string; hash: string }>>;
}

/** A lister for one build: its memo lives as long as the build being recorded. */
export function selectionLister(): SelectionLister {
  const listed = new Map<ContextSelection, RecordedFiles>();
  const lists = new Map<string, Array<{ path: string; hash: string }>>();
  return {
    lists,
    filesOf(sel) {
      let r = listed.get(sel);
      if (r === undefined) {
        const files = sel.files;
        if (files.length <= INLINE_FILES) {
          r = { files: Object.fromEntries(files.map((f) => [f.path, f.hash])) };
        } else {
          const ref = fileListId(files);
          lists.set(ref, files);
          r = { filesRef: ref, fileCount: files.length };
        }
        listed.set(sel, r);
      }
      return r;
    },
  };
}
