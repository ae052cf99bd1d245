/**
 * Jest setup (setupFiles) for handler tests: silences the handlers' Powertools JSON logs, which
 * production keeps at INFO. A test that asserts on logs spies on the logger's methods, which still
 * get called at any level. Set POWERTOOLS_LOG_LEVEL yourself to see the logs while debugging.
 */
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
// The SDK's multi-line notice about future Node versions says nothing about the code under test.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
