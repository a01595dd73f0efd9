"""English: Installing touchbase in a workspace (many-workspace mode): the OAuth pages."""

EN: dict[str, str] = {
    "install.title": "touchbase",
    "install.done": "touchbase is installed in {team}. Type /crm help in Slack to start.",
    "install.failed.state": "This install link has expired or was already used; nothing was installed.",
    "install.failed.denied": "The installation was cancelled; nothing was installed.",
    "install.failed.org": "touchbase is installed in one workspace at a time; an organisation-wide install is not supported.",
    "install.failed.busy": "touchbase could not save the installation just now; nothing was installed. Please try again in a minute.",
    "install.failed.other": "Slack did not complete the installation ({reason}); nothing was installed.",
    "install.again": "Install again",
    "error.not_installed": "touchbase is not installed in this workspace (or was removed). Ask an admin to install it again.",
}
