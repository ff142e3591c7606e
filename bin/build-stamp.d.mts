// Types of bin/build-stamp.mjs (plain JavaScript: it runs before anything is compiled).
export declare const REPO: string;
export declare const DIST: string;
export declare const STAMP_FILE: string;
export declare const SOURCE_DIRS: readonly string[];
export declare function sourceFiles(root?: string): string[];
export declare function contentStamp(files?: readonly string[], root?: string): string;
export declare function newestMtime(files: readonly string[], root?: string): number;
export declare function readStamp(): { content: string; files: number; newestMtimeMs: number } | null;
export declare function distIsCurrent(): boolean;
