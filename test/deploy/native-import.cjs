// Node's own dynamic import, compiled by Node's CommonJS loader rather than the test runner's
// module runner (whose vm context has no dynamic import callback for code it did not load):
// a deployed bundle is imported as the Lambda runtime imports it.
module.exports = (url) => import(url);
