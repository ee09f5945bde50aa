// Types for node-version.js, which stays plain JavaScript so the launcher runs before anything is built.
export declare const MINIMUM_NODE: string;
export declare function tooOldNode(version: string): string | undefined;
