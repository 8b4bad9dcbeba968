/* Logins (dashboard/security): when a desktop page's session has ended (idle timeout, logout in another
   tab, account disabled), Dash's requests get 401; send the person to the login page (and back here
   afterwards) instead of leaving a page that silently stops updating. Wall screens (kiosks) keep their
   last content and are left alone. */
(function () {
  var path = window.location.pathname;
  if (!window.fetch || (path.indexOf("/wall/") === 0 && path !== "/wall/control")) {
    return;
  }
  var original = window.fetch;
  window.fetch = function () {
    return original.apply(this, arguments).then(function (response) {
      if (response.status === 401 && String(response.url).indexOf("/_dash-") !== -1) {
        var back = window.location.pathname + window.location.search;
        window.location.assign("/login?reason=idle&next=" + encodeURIComponent(back));
      }
      return response;
    });
  };
})();
