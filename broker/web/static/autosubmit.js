// Submits the SAML HTTP-POST binding form; served as a file so that pages
// need no inline script under the content security policy.
document.getElementById("autosubmit").submit();
