// The sign-in page until the application (issue #13) replaces it.
let csrf = '';

async function refresh() {
  const r = await fetch('/api/v1/me', {credentials: 'same-origin'});
  const logged = r.ok;
  document.getElementById('login').hidden = logged;
  document.getElementById('home').hidden = !logged;
  if (logged) {
    const info = await r.json();
    csrf = info.csrf_token;
    document.getElementById('who').textContent = info.user.username;
    document.getElementById('role').textContent = info.user.role;
  }
}

document.getElementById('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const body = JSON.stringify({username: ev.target.username.value, password: ev.target.password.value});
  const r = await fetch('/api/v1/session', {method: 'POST', headers: {'Content-Type': 'application/json'}, body});
  document.getElementById('error').textContent = r.ok ? '' : (await r.json()).error.message;
  refresh();
});

document.getElementById('logout').addEventListener('click', async () => {
  await fetch('/api/v1/session', {method: 'DELETE', headers: {'X-CSRF-Token': csrf}});
  refresh();
});

refresh();
