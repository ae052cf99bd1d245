// @ts-check
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    // services/: your services keep their own lint rules (their tests still run in `npm test`).
    ignores: [
      'node_modules/',
      '**/node_modules/',
      'cdk.out/',
      '**/cdk.out/',
      'coverage/',
      '.cache/',
      '**/*.d.ts',
      'services/',
      'test/fixtures/services/greeting-web/feature-flags.js',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{ts,js,mjs}'],
    plugins: { 'import-x': importX },
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        URL: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        fetch: 'readonly',
        structuredClone: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        performance: 'readonly',
      },
    },
    rules: {
      'no-shadow': 'off',
      '@typescript-eslint/no-shadow': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // JSON files (package versions, cdk.json) are read with require; code is imported.
      '@typescript-eslint/no-require-imports': ['error', { allow: ['\\.json$'] }],
      'import-x/order': [
        'error',
        {
          groups: ['builtin', 'external', 'internal', 'parent', 'sibling', 'index'],
          alphabetize: { order: 'asc', caseInsensitive: true },
          'newlines-between': 'never',
        },
      ],
      'import-x/no-duplicates': 'error',
      // Dependencies flow one way: bin -> lib -> lib/runtime, lambda -> lib/runtime (STYLE.md).
      // test/architecture.test.ts checks the same over the whole import graph.
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            {
              target: './lib/runtime',
              from: ['./lib', './lambda', './bin'],
              except: ['./runtime'],
              message: 'lib/runtime is shared by handlers and deployctl: it imports neither.',
            },
            { target: './lambda', from: './lib', except: ['./runtime'], message: 'handlers may import lib/runtime only.' },
            {
              target: './lib',
              from: ['./lambda', './bin'],
              message: 'lib never imports handlers or entry points: move shared code to lib/runtime.',
            },
          ],
        },
      ],
    },
    settings: { 'import-x/resolver': { node: { extensions: ['.ts', '.js', '.json'] } } },
  },
  {
    // CommonJS: the services' plain-JavaScript files and the CLI shim.
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['test/**', 'services/**/*.test.*', 'test/fixtures/services/**'],
    languageOptions: {
      globals: {
        describe: 'readonly',
        test: 'readonly',
        it: 'readonly',
        expect: 'readonly',
        beforeAll: 'readonly',
        afterAll: 'readonly',
        beforeEach: 'readonly',
        afterEach: 'readonly',
        jest: 'readonly',
      },
    },
    rules: {
      // Tests read synthesized templates and SDK answers, which are untyped JSON.
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  prettier,
);
