// Submits the SAML form as soon as the page is loaded. It is a file of its
// own so that the pages run under a content security policy without inline
// script; without JavaScript the person presses the button.
document.addEventListener("DOMContentLoaded", function () {
  var f = document.getElementById("autosubmit");
  if (f) {
    f.submit();
  }
});
