// Strict type-aware linting: no floating promises, no unexplained `any`.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['examples/**', 'dist/**', 'node_modules/**', 'test/fixtures/**', 'test/e2e/node_modules/**', 'test-output/**', '**/*.mjs', '**/*.js'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': ['error', {
        // node:test reports a test's failure itself; its returned promise is not ours to await.
        allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite', 'before', 'after'] }],
      }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
    },
  },
);
