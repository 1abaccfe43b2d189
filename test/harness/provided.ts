// What globalSetup hands to test files through vitest's provide/inject.
import type {} from 'vitest';
import type { ClusterInfo } from './pg-cluster.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgCluster: ClusterInfo;
  }
}
