# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_ipr_global_optspecs
    string join \n C= format= no-input q/quiet h/help V/version
end

function __fish_ipr_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_ipr_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_ipr_using_subcommand
    set -l cmd (__fish_ipr_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c ipr -n "__fish_ipr_needs_command" -s C -d 'Run as if ipr was started in PATH (like `git -C`)' -r -F
complete -c ipr -n "__fish_ipr_needs_command" -l format -d 'Output format where the output is data (markdown: only `plan analyze`)' -r -f -a "table\t''
json\t''
yaml\t''
markdown\t''"
complete -c ipr -n "__fish_ipr_needs_command" -l no-input -d 'Never prompt; a missing value is an error (exit 6)'
complete -c ipr -n "__fish_ipr_needs_command" -s q -l quiet -d 'Print only what a script needs (IDs, data); no progress messages'
complete -c ipr -n "__fish_ipr_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ipr -n "__fish_ipr_needs_command" -s V -l version -d 'Print version'
complete -c ipr -n "__fish_ipr_needs_command" -f -a "init" -d 'Create .ipr/config.yaml and requests/prod/ in the current git repo, and commit the config'
complete -c ipr -n "__fish_ipr_needs_command" -f -a "create" -d 'File a new promotion request and commit it as yourself'
complete -c ipr -n "__fish_ipr_needs_command" -f -a "list" -d 'List the requests you can see, oldest first'
complete -c ipr -n "__fish_ipr_needs_command" -f -a "show" -d 'Show one request: target, justification, release notes, impact, rollback plan, pre-checks and its timeline'
complete -c ipr -n "__fish_ipr_needs_command" -f -a "approve" -d 'Approve a pending request'
complete -c ipr -n "__fish_ipr_needs_command" -f -a "reject" -d 'Reject a pending request; one rejection ends it'
complete -c ipr -n "__fish_ipr_needs_command" -f -a "review" -d 'Approve or reject a pending request (same rules as `ipr approve` and `ipr reject`); with --reject, --comment is the reason'
complete -c ipr -n "__fish_ipr_needs_command" -f -a "cancel" -d 'Cancel a pending or approved request'
complete -c ipr -n "__fish_ipr_needs_command" -f -a "comment" -d 'Comment on a request: a `commented` history entry, in any state, that changes nothing else'
complete -c ipr -n "__fish_ipr_needs_command" -f -a "promote" -d 'File the next-stage request for a deployed one'
complete -c ipr -n "__fish_ipr_needs_command" -f -a "deploy" -d 'Deploy an approved request (or retry a failed one) through its runner, and record the outcome in the ticket'
complete -c ipr -n "__fish_ipr_needs_command" -f -a "break-glass" -d 'Two-person break glass: agree to another admin\'s break-glass deploy'
complete -c ipr -n "__fish_ipr_needs_command" -f -a "incident" -d 'Record the incident report that follows a break-glass deploy'
complete -c ipr -n "__fish_ipr_needs_command" -f -a "record" -d 'Record the outcome of a deploy started with `ipr deploy --no-wait` (from an AWX notification webhook, a CI callback, or by hand)'
complete -c ipr -n "__fish_ipr_needs_command" -f -a "stats" -d 'Counts for a dashboard: pending requests, approved and rejected today, deployed this week (since Monday 00:00 UTC), over the requests you can see'
complete -c ipr -n "__fish_ipr_needs_command" -f -a "log" -d 'Show the commits of one request, newest first: who acted, what they did, when, and the signature status of each commit'
complete -c ipr -n "__fish_ipr_needs_command" -f -a "sync" -d 'Share your actions with the team: fetch the remote branch, replay your unpushed ipr commits on top of it one by one (each re-checked against the remote\'s state), and push'
complete -c ipr -n "__fish_ipr_needs_command" -f -a "plan" -d 'Work with Terraform plans'
complete -c ipr -n "__fish_ipr_needs_command" -f -a "policy" -d 'Policy as code: the Rego policies of `.ipr/policies` that every terraform request must pass'
complete -c ipr -n "__fish_ipr_needs_command" -f -a "drift" -d 'Find objects changed outside Terraform; with --create, open a request that records them'
complete -c ipr -n "__fish_ipr_needs_command" -f -a "notify" -d 'Deliver the notifications that have not been delivered yet'
complete -c ipr -n "__fish_ipr_needs_command" -f -a "serve" -d 'Serve the JSON API of this clone over HTTP (SPEC §12)'
complete -c ipr -n "__fish_ipr_needs_command" -f -a "token" -d 'API tokens for `ipr serve`'
complete -c ipr -n "__fish_ipr_needs_command" -f -a "verify" -d 'Replay the branch\'s history and check every transition'
complete -c ipr -n "__fish_ipr_needs_command" -f -a "waive" -d 'Accept the violations of one commit (admins only)'
complete -c ipr -n "__fish_ipr_needs_command" -f -a "import" -d 'Commit tickets from another system, unchanged (admins only)'
complete -c ipr -n "__fish_ipr_needs_command" -f -a "hooks" -d 'Git hooks that run `ipr verify`'
complete -c ipr -n "__fish_ipr_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c ipr -n "__fish_ipr_needs_command" -f -a "man" -d 'Print the man page (roff): `ipr man | man -l -`'
complete -c ipr -n "__fish_ipr_needs_command" -f -a "demo" -d 'Run the workflow end to end on a throwaway gitops repo: an admin sets it up, a devops engineer files a request, a tenant admin approves it, it is deployed, and an auditor verifies the history'
complete -c ipr -n "__fish_ipr_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ipr -n "__fish_ipr_using_subcommand init" -l tenant -d 'A tenant requests can be filed for (repeat for several)' -r
complete -c ipr -n "__fish_ipr_using_subcommand init" -l admin -d 'The first admin\'s email [default: git config user.email]' -r
complete -c ipr -n "__fish_ipr_using_subcommand init" -s C -d 'Run as if ipr was started in PATH (like `git -C`)' -r -F
complete -c ipr -n "__fish_ipr_using_subcommand init" -l format -d 'Output format where the output is data (markdown: only `plan analyze`)' -r -f -a "table\t''
json\t''
yaml\t''
markdown\t''"
complete -c ipr -n "__fish_ipr_using_subcommand init" -l sign -d 'Sign the commit even if git config does not ask for it'
complete -c ipr -n "__fish_ipr_using_subcommand init" -l no-input -d 'Never prompt; a missing value is an error (exit 6)'
complete -c ipr -n "__fish_ipr_using_subcommand init" -s q -l quiet -d 'Print only what a script needs (IDs, data); no progress messages'
complete -c ipr -n "__fish_ipr_using_subcommand init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ipr -n "__fish_ipr_using_subcommand create" -s f -l file -d 'Read the request from a YAML file (`-` for stdin)' -r -F
complete -c ipr -n "__fish_ipr_using_subcommand create" -l from-text -d 'Draft the request from a plain description with the LLM of `llm:` in the config; you complete and confirm it on a terminal' -r
complete -c ipr -n "__fish_ipr_using_subcommand create" -l type -d 'What is promoted [default with --plan: terraform]' -r -f -a "api\t''
application\t''
policy\t''
terraform\t''"
complete -c ipr -n "__fish_ipr_using_subcommand create" -l name -d 'Name of the API, application, policy or stack' -r
complete -c ipr -n "__fish_ipr_using_subcommand create" -l version -d 'Version to promote' -r
complete -c ipr -n "__fish_ipr_using_subcommand create" -l tenant -d 'Tenant the request belongs to [default: your only tenant]' -r
complete -c ipr -n "__fish_ipr_using_subcommand create" -l source-env -d 'Environment the version was tested in' -r
complete -c ipr -n "__fish_ipr_using_subcommand create" -l target-env -d 'Environment to promote to' -r
complete -c ipr -n "__fish_ipr_using_subcommand create" -l justification -d 'Why this change is needed (at least 20 characters)' -r
complete -c ipr -n "__fish_ipr_using_subcommand create" -l release-notes -d 'Release notes (Markdown)' -r
complete -c ipr -n "__fish_ipr_using_subcommand create" -l impact -d 'Impact assessment; decides how many approvals are needed' -r -f -a "low\t''
medium\t''
high\t''
critical\t''"
complete -c ipr -n "__fish_ipr_using_subcommand create" -l rollback-plan -d 'How to undo the change (required)' -r
complete -c ipr -n "__fish_ipr_using_subcommand create" -l scheduled -d 'Not before this RFC 3339 date-time, e.g. 2026-12-24T09:00:00Z [default: ASAP]' -r
complete -c ipr -n "__fish_ipr_using_subcommand create" -l evidence-url -d 'http(s) URL of the test evidence (CI run, report)' -r
complete -c ipr -n "__fish_ipr_using_subcommand create" -l plan -d '`terraform show -json` output of the plan (`-` for stdin)' -r -F
complete -c ipr -n "__fish_ipr_using_subcommand create" -l plan-file -d 'The saved plan (`terraform plan -out=FILE`) the runner will apply' -r -F
complete -c ipr -n "__fish_ipr_using_subcommand create" -l cost -d 'The plan\'s monthly cost: `infracost breakdown --path plan.json --format json --out-file infracost.json` (`-` for stdin). Stored in `spec.plan.cost`; rules with `monthlyCostIncreaseAbove` use it' -r -F
complete -c ipr -n "__fish_ipr_using_subcommand create" -s C -d 'Run as if ipr was started in PATH (like `git -C`)' -r -F
complete -c ipr -n "__fish_ipr_using_subcommand create" -l format -d 'Output format where the output is data (markdown: only `plan analyze`)' -r -f -a "table\t''
json\t''
yaml\t''
markdown\t''"
complete -c ipr -n "__fish_ipr_using_subcommand create" -l staging-tests-passed -d 'Staging tests passed (required to create)'
complete -c ipr -n "__fish_ipr_using_subcommand create" -l security-scan-passed -d 'Security scan passed (required to create)'
complete -c ipr -n "__fish_ipr_using_subcommand create" -l performance-tests-passed -d 'Performance tests passed'
complete -c ipr -n "__fish_ipr_using_subcommand create" -l sign -d 'Sign the commit even if git config does not ask for it'
complete -c ipr -n "__fish_ipr_using_subcommand create" -l push -d 'Fetch first, act on the remote\'s latest state, and push (retrying if someone else pushed first). `sync.autoPush: true` makes it the default'
complete -c ipr -n "__fish_ipr_using_subcommand create" -l no-input -d 'Never prompt; a missing value is an error (exit 6)'
complete -c ipr -n "__fish_ipr_using_subcommand create" -s q -l quiet -d 'Print only what a script needs (IDs, data); no progress messages'
complete -c ipr -n "__fish_ipr_using_subcommand create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ipr -n "__fish_ipr_using_subcommand list" -l state -d 'Only requests in this state' -r -f -a "pending\t''
approved\t''
rejected\t''
deploying\t''
deployed\t''
failed\t''
cancelled\t''"
complete -c ipr -n "__fish_ipr_using_subcommand list" -l tenant -d 'Only requests of this tenant' -r
complete -c ipr -n "__fish_ipr_using_subcommand list" -l created-by -d 'Only requests created by this email' -r
complete -c ipr -n "__fish_ipr_using_subcommand list" -l search -d 'Only requests whose id, target, tenant, creator or justification holds this text (case-insensitive)' -r
complete -c ipr -n "__fish_ipr_using_subcommand list" -s C -d 'Run as if ipr was started in PATH (like `git -C`)' -r -F
complete -c ipr -n "__fish_ipr_using_subcommand list" -l format -d 'Output format where the output is data (markdown: only `plan analyze`)' -r -f -a "table\t''
json\t''
yaml\t''
markdown\t''"
complete -c ipr -n "__fish_ipr_using_subcommand list" -l mine -d 'Only requests you created'
complete -c ipr -n "__fish_ipr_using_subcommand list" -l pending -d 'Only pending requests you may approve (your review queue), with what each still needs ("1 approval, 1 of dba"; in JSON, `needs`)'
complete -c ipr -n "__fish_ipr_using_subcommand list" -l no-input -d 'Never prompt; a missing value is an error (exit 6)'
complete -c ipr -n "__fish_ipr_using_subcommand list" -s q -l quiet -d 'Print only what a script needs (IDs, data); no progress messages'
complete -c ipr -n "__fish_ipr_using_subcommand list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ipr -n "__fish_ipr_using_subcommand show" -s C -d 'Run as if ipr was started in PATH (like `git -C`)' -r -F
complete -c ipr -n "__fish_ipr_using_subcommand show" -l format -d 'Output format where the output is data (markdown: only `plan analyze`)' -r -f -a "table\t''
json\t''
yaml\t''
markdown\t''"
complete -c ipr -n "__fish_ipr_using_subcommand show" -l no-input -d 'Never prompt; a missing value is an error (exit 6)'
complete -c ipr -n "__fish_ipr_using_subcommand show" -s q -l quiet -d 'Print only what a script needs (IDs, data); no progress messages'
complete -c ipr -n "__fish_ipr_using_subcommand show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ipr -n "__fish_ipr_using_subcommand approve" -s m -l comment -d 'A comment recorded with the approval' -r
complete -c ipr -n "__fish_ipr_using_subcommand approve" -s C -d 'Run as if ipr was started in PATH (like `git -C`)' -r -F
complete -c ipr -n "__fish_ipr_using_subcommand approve" -l format -d 'Output format where the output is data (markdown: only `plan analyze`)' -r -f -a "table\t''
json\t''
yaml\t''
markdown\t''"
complete -c ipr -n "__fish_ipr_using_subcommand approve" -l sign -d 'Sign the commit even if git config does not ask for it'
complete -c ipr -n "__fish_ipr_using_subcommand approve" -l push -d 'Fetch first, act on the remote\'s latest state, and push (retrying if someone else pushed first). `sync.autoPush: true` makes it the default'
complete -c ipr -n "__fish_ipr_using_subcommand approve" -l no-input -d 'Never prompt; a missing value is an error (exit 6)'
complete -c ipr -n "__fish_ipr_using_subcommand approve" -s q -l quiet -d 'Print only what a script needs (IDs, data); no progress messages'
complete -c ipr -n "__fish_ipr_using_subcommand approve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ipr -n "__fish_ipr_using_subcommand reject" -s r -l reason -d 'Why it is rejected (at least 10 characters)' -r
complete -c ipr -n "__fish_ipr_using_subcommand reject" -s C -d 'Run as if ipr was started in PATH (like `git -C`)' -r -F
complete -c ipr -n "__fish_ipr_using_subcommand reject" -l format -d 'Output format where the output is data (markdown: only `plan analyze`)' -r -f -a "table\t''
json\t''
yaml\t''
markdown\t''"
complete -c ipr -n "__fish_ipr_using_subcommand reject" -l sign -d 'Sign the commit even if git config does not ask for it'
complete -c ipr -n "__fish_ipr_using_subcommand reject" -l push -d 'Fetch first, act on the remote\'s latest state, and push (retrying if someone else pushed first). `sync.autoPush: true` makes it the default'
complete -c ipr -n "__fish_ipr_using_subcommand reject" -l no-input -d 'Never prompt; a missing value is an error (exit 6)'
complete -c ipr -n "__fish_ipr_using_subcommand reject" -s q -l quiet -d 'Print only what a script needs (IDs, data); no progress messages'
complete -c ipr -n "__fish_ipr_using_subcommand reject" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ipr -n "__fish_ipr_using_subcommand review" -s m -l comment -d 'Comment for an approval, reason for a rejection' -r
complete -c ipr -n "__fish_ipr_using_subcommand review" -s C -d 'Run as if ipr was started in PATH (like `git -C`)' -r -F
complete -c ipr -n "__fish_ipr_using_subcommand review" -l format -d 'Output format where the output is data (markdown: only `plan analyze`)' -r -f -a "table\t''
json\t''
yaml\t''
markdown\t''"
complete -c ipr -n "__fish_ipr_using_subcommand review" -l approve -d 'Approve the request'
complete -c ipr -n "__fish_ipr_using_subcommand review" -l reject -d 'Reject the request (needs --comment of at least 10 characters)'
complete -c ipr -n "__fish_ipr_using_subcommand review" -l sign -d 'Sign the commit even if git config does not ask for it'
complete -c ipr -n "__fish_ipr_using_subcommand review" -l push -d 'Fetch first, act on the remote\'s latest state, and push (retrying if someone else pushed first). `sync.autoPush: true` makes it the default'
complete -c ipr -n "__fish_ipr_using_subcommand review" -l no-input -d 'Never prompt; a missing value is an error (exit 6)'
complete -c ipr -n "__fish_ipr_using_subcommand review" -s q -l quiet -d 'Print only what a script needs (IDs, data); no progress messages'
complete -c ipr -n "__fish_ipr_using_subcommand review" -s h -l help -d 'Print help'
complete -c ipr -n "__fish_ipr_using_subcommand cancel" -s r -l reason -d 'Why it is cancelled' -r
complete -c ipr -n "__fish_ipr_using_subcommand cancel" -s C -d 'Run as if ipr was started in PATH (like `git -C`)' -r -F
complete -c ipr -n "__fish_ipr_using_subcommand cancel" -l format -d 'Output format where the output is data (markdown: only `plan analyze`)' -r -f -a "table\t''
json\t''
yaml\t''
markdown\t''"
complete -c ipr -n "__fish_ipr_using_subcommand cancel" -l sign -d 'Sign the commit even if git config does not ask for it'
complete -c ipr -n "__fish_ipr_using_subcommand cancel" -l push -d 'Fetch first, act on the remote\'s latest state, and push (retrying if someone else pushed first). `sync.autoPush: true` makes it the default'
complete -c ipr -n "__fish_ipr_using_subcommand cancel" -l no-input -d 'Never prompt; a missing value is an error (exit 6)'
complete -c ipr -n "__fish_ipr_using_subcommand cancel" -s q -l quiet -d 'Print only what a script needs (IDs, data); no progress messages'
complete -c ipr -n "__fish_ipr_using_subcommand cancel" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ipr -n "__fish_ipr_using_subcommand comment" -s m -l message -d 'The comment' -r
complete -c ipr -n "__fish_ipr_using_subcommand comment" -s C -d 'Run as if ipr was started in PATH (like `git -C`)' -r -F
complete -c ipr -n "__fish_ipr_using_subcommand comment" -l format -d 'Output format where the output is data (markdown: only `plan analyze`)' -r -f -a "table\t''
json\t''
yaml\t''
markdown\t''"
complete -c ipr -n "__fish_ipr_using_subcommand comment" -l sign -d 'Sign the commit even if git config does not ask for it'
complete -c ipr -n "__fish_ipr_using_subcommand comment" -l push -d 'Fetch first, act on the remote\'s latest state, and push (retrying if someone else pushed first). `sync.autoPush: true` makes it the default'
complete -c ipr -n "__fish_ipr_using_subcommand comment" -l no-input -d 'Never prompt; a missing value is an error (exit 6)'
complete -c ipr -n "__fish_ipr_using_subcommand comment" -s q -l quiet -d 'Print only what a script needs (IDs, data); no progress messages'
complete -c ipr -n "__fish_ipr_using_subcommand comment" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ipr -n "__fish_ipr_using_subcommand promote" -l to -d 'The environment to promote to' -r
complete -c ipr -n "__fish_ipr_using_subcommand promote" -s C -d 'Run as if ipr was started in PATH (like `git -C`)' -r -F
complete -c ipr -n "__fish_ipr_using_subcommand promote" -l format -d 'Output format where the output is data (markdown: only `plan analyze`)' -r -f -a "table\t''
json\t''
yaml\t''
markdown\t''"
complete -c ipr -n "__fish_ipr_using_subcommand promote" -l sign -d 'Sign the commit even if git config does not ask for it'
complete -c ipr -n "__fish_ipr_using_subcommand promote" -l push -d 'Fetch first, act on the remote\'s latest state, and push (retrying if someone else pushed first). `sync.autoPush: true` makes it the default'
complete -c ipr -n "__fish_ipr_using_subcommand promote" -l no-input -d 'Never prompt; a missing value is an error (exit 6)'
complete -c ipr -n "__fish_ipr_using_subcommand promote" -s q -l quiet -d 'Print only what a script needs (IDs, data); no progress messages'
complete -c ipr -n "__fish_ipr_using_subcommand promote" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ipr -n "__fish_ipr_using_subcommand deploy" -l runner -d 'Use this runner (a name under runners.definitions, or `shell`)' -r
complete -c ipr -n "__fish_ipr_using_subcommand deploy" -l reason -d 'Why glass is broken' -r
complete -c ipr -n "__fish_ipr_using_subcommand deploy" -s C -d 'Run as if ipr was started in PATH (like `git -C`)' -r -F
complete -c ipr -n "__fish_ipr_using_subcommand deploy" -l format -d 'Output format where the output is data (markdown: only `plan analyze`)' -r -f -a "table\t''
json\t''
yaml\t''
markdown\t''"
complete -c ipr -n "__fish_ipr_using_subcommand deploy" -l due -d 'Deploy every approved request whose wait timer and schedule have passed (that you may deploy), one after another'
complete -c ipr -n "__fish_ipr_using_subcommand deploy" -l dry-run -d 'Check every rule and print exactly what would run; change nothing'
complete -c ipr -n "__fish_ipr_using_subcommand deploy" -l no-wait -d 'Return once the job is launched and `deploying` is committed; complete it later with `ipr record`'
complete -c ipr -n "__fish_ipr_using_subcommand deploy" -l break-glass -d 'Deploy inside a freeze window or before the wait timer (admins only; recorded in history; with breakGlass.admins above 1, opens a break-glass deploy the other admins confirm)'
complete -c ipr -n "__fish_ipr_using_subcommand deploy" -l sign -d 'Sign the commit even if git config does not ask for it'
complete -c ipr -n "__fish_ipr_using_subcommand deploy" -l push -d 'Fetch first, act on the remote\'s latest state, and push (retrying if someone else pushed first). `sync.autoPush: true` makes it the default'
complete -c ipr -n "__fish_ipr_using_subcommand deploy" -l no-input -d 'Never prompt; a missing value is an error (exit 6)'
complete -c ipr -n "__fish_ipr_using_subcommand deploy" -s q -l quiet -d 'Print only what a script needs (IDs, data); no progress messages'
complete -c ipr -n "__fish_ipr_using_subcommand deploy" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ipr -n "__fish_ipr_using_subcommand break-glass; and not __fish_seen_subcommand_from confirm help" -s C -d 'Run as if ipr was started in PATH (like `git -C`)' -r -F
complete -c ipr -n "__fish_ipr_using_subcommand break-glass; and not __fish_seen_subcommand_from confirm help" -l format -d 'Output format where the output is data (markdown: only `plan analyze`)' -r -f -a "table\t''
json\t''
yaml\t''
markdown\t''"
complete -c ipr -n "__fish_ipr_using_subcommand break-glass; and not __fish_seen_subcommand_from confirm help" -l no-input -d 'Never prompt; a missing value is an error (exit 6)'
complete -c ipr -n "__fish_ipr_using_subcommand break-glass; and not __fish_seen_subcommand_from confirm help" -s q -l quiet -d 'Print only what a script needs (IDs, data); no progress messages'
complete -c ipr -n "__fish_ipr_using_subcommand break-glass; and not __fish_seen_subcommand_from confirm help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ipr -n "__fish_ipr_using_subcommand break-glass; and not __fish_seen_subcommand_from confirm help" -f -a "confirm" -d 'Agree to the open break-glass deploy of a request; the agreement that completes breakGlass.admins deploys it at once, as you'
complete -c ipr -n "__fish_ipr_using_subcommand break-glass; and not __fish_seen_subcommand_from confirm help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ipr -n "__fish_ipr_using_subcommand break-glass; and __fish_seen_subcommand_from confirm" -l runner -d 'Use this runner (a name under runners.definitions, or `shell`)' -r
complete -c ipr -n "__fish_ipr_using_subcommand break-glass; and __fish_seen_subcommand_from confirm" -s C -d 'Run as if ipr was started in PATH (like `git -C`)' -r -F
complete -c ipr -n "__fish_ipr_using_subcommand break-glass; and __fish_seen_subcommand_from confirm" -l format -d 'Output format where the output is data (markdown: only `plan analyze`)' -r -f -a "table\t''
json\t''
yaml\t''
markdown\t''"
complete -c ipr -n "__fish_ipr_using_subcommand break-glass; and __fish_seen_subcommand_from confirm" -l sign -d 'Sign the commit even if git config does not ask for it'
complete -c ipr -n "__fish_ipr_using_subcommand break-glass; and __fish_seen_subcommand_from confirm" -l push -d 'Fetch first, act on the remote\'s latest state, and push (retrying if someone else pushed first). `sync.autoPush: true` makes it the default'
complete -c ipr -n "__fish_ipr_using_subcommand break-glass; and __fish_seen_subcommand_from confirm" -l no-input -d 'Never prompt; a missing value is an error (exit 6)'
complete -c ipr -n "__fish_ipr_using_subcommand break-glass; and __fish_seen_subcommand_from confirm" -s q -l quiet -d 'Print only what a script needs (IDs, data); no progress messages'
complete -c ipr -n "__fish_ipr_using_subcommand break-glass; and __fish_seen_subcommand_from confirm" -s h -l help -d 'Print help'
complete -c ipr -n "__fish_ipr_using_subcommand break-glass; and __fish_seen_subcommand_from help" -f -a "confirm" -d 'Agree to the open break-glass deploy of a request; the agreement that completes breakGlass.admins deploys it at once, as you'
complete -c ipr -n "__fish_ipr_using_subcommand break-glass; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ipr -n "__fish_ipr_using_subcommand incident" -l report -d 'Where the report is (an http(s) URL)' -r
complete -c ipr -n "__fish_ipr_using_subcommand incident" -s C -d 'Run as if ipr was started in PATH (like `git -C`)' -r -F
complete -c ipr -n "__fish_ipr_using_subcommand incident" -l format -d 'Output format where the output is data (markdown: only `plan analyze`)' -r -f -a "table\t''
json\t''
yaml\t''
markdown\t''"
complete -c ipr -n "__fish_ipr_using_subcommand incident" -l sign -d 'Sign the commit even if git config does not ask for it'
complete -c ipr -n "__fish_ipr_using_subcommand incident" -l push -d 'Fetch first, act on the remote\'s latest state, and push (retrying if someone else pushed first). `sync.autoPush: true` makes it the default'
complete -c ipr -n "__fish_ipr_using_subcommand incident" -l no-input -d 'Never prompt; a missing value is an error (exit 6)'
complete -c ipr -n "__fish_ipr_using_subcommand incident" -s q -l quiet -d 'Print only what a script needs (IDs, data); no progress messages'
complete -c ipr -n "__fish_ipr_using_subcommand incident" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ipr -n "__fish_ipr_using_subcommand record" -l status -d 'How the job ended' -r -f -a "successful\t''
failed\t''"
complete -c ipr -n "__fish_ipr_using_subcommand record" -l job-id -d 'The job id the deploying entry recorded' -r
complete -c ipr -n "__fish_ipr_using_subcommand record" -l error -d 'What went wrong (with --status failed)' -r
complete -c ipr -n "__fish_ipr_using_subcommand record" -l deployment-id -d 'Deployment id to record (with --status successful)' -r
complete -c ipr -n "__fish_ipr_using_subcommand record" -s C -d 'Run as if ipr was started in PATH (like `git -C`)' -r -F
complete -c ipr -n "__fish_ipr_using_subcommand record" -l format -d 'Output format where the output is data (markdown: only `plan analyze`)' -r -f -a "table\t''
json\t''
yaml\t''
markdown\t''"
complete -c ipr -n "__fish_ipr_using_subcommand record" -l sign -d 'Sign the commit even if git config does not ask for it'
complete -c ipr -n "__fish_ipr_using_subcommand record" -l push -d 'Fetch first, act on the remote\'s latest state, and push (retrying if someone else pushed first). `sync.autoPush: true` makes it the default'
complete -c ipr -n "__fish_ipr_using_subcommand record" -l no-input -d 'Never prompt; a missing value is an error (exit 6)'
complete -c ipr -n "__fish_ipr_using_subcommand record" -s q -l quiet -d 'Print only what a script needs (IDs, data); no progress messages'
complete -c ipr -n "__fish_ipr_using_subcommand record" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ipr -n "__fish_ipr_using_subcommand stats" -s C -d 'Run as if ipr was started in PATH (like `git -C`)' -r -F
complete -c ipr -n "__fish_ipr_using_subcommand stats" -l format -d 'Output format where the output is data (markdown: only `plan analyze`)' -r -f -a "table\t''
json\t''
yaml\t''
markdown\t''"
complete -c ipr -n "__fish_ipr_using_subcommand stats" -l no-input -d 'Never prompt; a missing value is an error (exit 6)'
complete -c ipr -n "__fish_ipr_using_subcommand stats" -s q -l quiet -d 'Print only what a script needs (IDs, data); no progress messages'
complete -c ipr -n "__fish_ipr_using_subcommand stats" -s h -l help -d 'Print help'
complete -c ipr -n "__fish_ipr_using_subcommand log" -s C -d 'Run as if ipr was started in PATH (like `git -C`)' -r -F
complete -c ipr -n "__fish_ipr_using_subcommand log" -l format -d 'Output format where the output is data (markdown: only `plan analyze`)' -r -f -a "table\t''
json\t''
yaml\t''
markdown\t''"
complete -c ipr -n "__fish_ipr_using_subcommand log" -l no-input -d 'Never prompt; a missing value is an error (exit 6)'
complete -c ipr -n "__fish_ipr_using_subcommand log" -s q -l quiet -d 'Print only what a script needs (IDs, data); no progress messages'
complete -c ipr -n "__fish_ipr_using_subcommand log" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ipr -n "__fish_ipr_using_subcommand sync" -l remote -d 'The git remote to sync with' -r
complete -c ipr -n "__fish_ipr_using_subcommand sync" -s C -d 'Run as if ipr was started in PATH (like `git -C`)' -r -F
complete -c ipr -n "__fish_ipr_using_subcommand sync" -l format -d 'Output format where the output is data (markdown: only `plan analyze`)' -r -f -a "table\t''
json\t''
yaml\t''
markdown\t''"
complete -c ipr -n "__fish_ipr_using_subcommand sync" -l sign -d 'Sign replayed commits even if git config does not ask for it'
complete -c ipr -n "__fish_ipr_using_subcommand sync" -l no-input -d 'Never prompt; a missing value is an error (exit 6)'
complete -c ipr -n "__fish_ipr_using_subcommand sync" -s q -l quiet -d 'Print only what a script needs (IDs, data); no progress messages'
complete -c ipr -n "__fish_ipr_using_subcommand sync" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ipr -n "__fish_ipr_using_subcommand plan; and not __fish_seen_subcommand_from analyze help" -s C -d 'Run as if ipr was started in PATH (like `git -C`)' -r -F
complete -c ipr -n "__fish_ipr_using_subcommand plan; and not __fish_seen_subcommand_from analyze help" -l format -d 'Output format where the output is data (markdown: only `plan analyze`)' -r -f -a "table\t''
json\t''
yaml\t''
markdown\t''"
complete -c ipr -n "__fish_ipr_using_subcommand plan; and not __fish_seen_subcommand_from analyze help" -l no-input -d 'Never prompt; a missing value is an error (exit 6)'
complete -c ipr -n "__fish_ipr_using_subcommand plan; and not __fish_seen_subcommand_from analyze help" -s q -l quiet -d 'Print only what a script needs (IDs, data); no progress messages'
complete -c ipr -n "__fish_ipr_using_subcommand plan; and not __fish_seen_subcommand_from analyze help" -s h -l help -d 'Print help'
complete -c ipr -n "__fish_ipr_using_subcommand plan; and not __fish_seen_subcommand_from analyze help" -f -a "analyze" -d 'Risk report of a Terraform plan: every resource change with its risk, data sources read, drift, terraform\'s summary line and the plan\'s risk'
complete -c ipr -n "__fish_ipr_using_subcommand plan; and not __fish_seen_subcommand_from analyze help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ipr -n "__fish_ipr_using_subcommand plan; and __fish_seen_subcommand_from analyze" -l rollback-plan -d 'Text of the Rollback section of --format markdown' -r
complete -c ipr -n "__fish_ipr_using_subcommand plan; and __fish_seen_subcommand_from analyze" -l cost -d 'Monthly cost of the plan, from infracost: the output of `infracost breakdown --path plan.json --format json --out-file infracost.json` (`-` for stdin). Shown as before → after with the change, in infracost\'s currency; the cost before is 0 when infracost had no baseline' -r -F
complete -c ipr -n "__fish_ipr_using_subcommand plan; and __fish_seen_subcommand_from analyze" -s C -d 'Run as if ipr was started in PATH (like `git -C`)' -r -F
complete -c ipr -n "__fish_ipr_using_subcommand plan; and __fish_seen_subcommand_from analyze" -l format -d 'Output format where the output is data (markdown: only `plan analyze`)' -r -f -a "table\t''
json\t''
yaml\t''
markdown\t''"
complete -c ipr -n "__fish_ipr_using_subcommand plan; and __fish_seen_subcommand_from analyze" -l no-input -d 'Never prompt; a missing value is an error (exit 6)'
complete -c ipr -n "__fish_ipr_using_subcommand plan; and __fish_seen_subcommand_from analyze" -s q -l quiet -d 'Print only what a script needs (IDs, data); no progress messages'
complete -c ipr -n "__fish_ipr_using_subcommand plan; and __fish_seen_subcommand_from analyze" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ipr -n "__fish_ipr_using_subcommand plan; and __fish_seen_subcommand_from help" -f -a "analyze" -d 'Risk report of a Terraform plan: every resource change with its risk, data sources read, drift, terraform\'s summary line and the plan\'s risk'
complete -c ipr -n "__fish_ipr_using_subcommand plan; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ipr -n "__fish_ipr_using_subcommand policy; and not __fish_seen_subcommand_from test help" -s C -d 'Run as if ipr was started in PATH (like `git -C`)' -r -F
complete -c ipr -n "__fish_ipr_using_subcommand policy; and not __fish_seen_subcommand_from test help" -l format -d 'Output format where the output is data (markdown: only `plan analyze`)' -r -f -a "table\t''
json\t''
yaml\t''
markdown\t''"
complete -c ipr -n "__fish_ipr_using_subcommand policy; and not __fish_seen_subcommand_from test help" -l no-input -d 'Never prompt; a missing value is an error (exit 6)'
complete -c ipr -n "__fish_ipr_using_subcommand policy; and not __fish_seen_subcommand_from test help" -s q -l quiet -d 'Print only what a script needs (IDs, data); no progress messages'
complete -c ipr -n "__fish_ipr_using_subcommand policy; and not __fish_seen_subcommand_from test help" -s h -l help -d 'Print help'
complete -c ipr -n "__fish_ipr_using_subcommand policy; and not __fish_seen_subcommand_from test help" -f -a "test" -d 'Run each policy against its fixture plans'
complete -c ipr -n "__fish_ipr_using_subcommand policy; and not __fish_seen_subcommand_from test help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ipr -n "__fish_ipr_using_subcommand policy; and __fish_seen_subcommand_from test" -s C -d 'Run as if ipr was started in PATH (like `git -C`)' -r -F
complete -c ipr -n "__fish_ipr_using_subcommand policy; and __fish_seen_subcommand_from test" -l format -d 'Output format where the output is data (markdown: only `plan analyze`)' -r -f -a "table\t''
json\t''
yaml\t''
markdown\t''"
complete -c ipr -n "__fish_ipr_using_subcommand policy; and __fish_seen_subcommand_from test" -l no-input -d 'Never prompt; a missing value is an error (exit 6)'
complete -c ipr -n "__fish_ipr_using_subcommand policy; and __fish_seen_subcommand_from test" -s q -l quiet -d 'Print only what a script needs (IDs, data); no progress messages'
complete -c ipr -n "__fish_ipr_using_subcommand policy; and __fish_seen_subcommand_from test" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ipr -n "__fish_ipr_using_subcommand policy; and __fish_seen_subcommand_from help" -f -a "test" -d 'Run each policy against its fixture plans'
complete -c ipr -n "__fish_ipr_using_subcommand policy; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ipr -n "__fish_ipr_using_subcommand drift" -l plan -d 'Read this `terraform show -json` output instead of running terraform' -r -F
complete -c ipr -n "__fish_ipr_using_subcommand drift" -l plan-file -d 'The saved plan of --plan, recorded in the request (with --create)' -r -F
complete -c ipr -n "__fish_ipr_using_subcommand drift" -l runner -d 'The terraform runner to run [default: the only terraform definition]' -r
complete -c ipr -n "__fish_ipr_using_subcommand drift" -l name -d 'The stack: target name of the drift request' -r
complete -c ipr -n "__fish_ipr_using_subcommand drift" -l tenant -d 'Tenant of the request [default: your only tenant]' -r
complete -c ipr -n "__fish_ipr_using_subcommand drift" -l source-env -d 'Source environment of the request' -r
complete -c ipr -n "__fish_ipr_using_subcommand drift" -l target-env -d 'Environment that drifted' -r
complete -c ipr -n "__fish_ipr_using_subcommand drift" -l impact -d 'Impact, at least the plan\'s risk [default: the plan\'s risk]' -r -f -a "low\t''
medium\t''
high\t''
critical\t''"
complete -c ipr -n "__fish_ipr_using_subcommand drift" -l rollback-plan -d 'How to undo the change [default: a note that nothing is to roll back]' -r
complete -c ipr -n "__fish_ipr_using_subcommand drift" -l evidence-url -d 'http(s) URL of the evidence (e.g. the CI job that found the drift)' -r
complete -c ipr -n "__fish_ipr_using_subcommand drift" -s C -d 'Run as if ipr was started in PATH (like `git -C`)' -r -F
complete -c ipr -n "__fish_ipr_using_subcommand drift" -l format -d 'Output format where the output is data (markdown: only `plan analyze`)' -r -f -a "table\t''
json\t''
yaml\t''
markdown\t''"
complete -c ipr -n "__fish_ipr_using_subcommand drift" -l create -d 'Open a request recording the drift (once per stack while it is open)'
complete -c ipr -n "__fish_ipr_using_subcommand drift" -l staging-tests-passed -d 'Staging tests passed (required to create)'
complete -c ipr -n "__fish_ipr_using_subcommand drift" -l security-scan-passed -d 'Security scan passed (required to create)'
complete -c ipr -n "__fish_ipr_using_subcommand drift" -l performance-tests-passed -d 'Performance tests passed'
complete -c ipr -n "__fish_ipr_using_subcommand drift" -l sign -d 'Sign the commit even if git config does not ask for it'
complete -c ipr -n "__fish_ipr_using_subcommand drift" -l push -d 'Fetch first, act on the remote\'s latest state, and push (retrying if someone else pushed first). `sync.autoPush: true` makes it the default'
complete -c ipr -n "__fish_ipr_using_subcommand drift" -l no-input -d 'Never prompt; a missing value is an error (exit 6)'
complete -c ipr -n "__fish_ipr_using_subcommand drift" -s q -l quiet -d 'Print only what a script needs (IDs, data); no progress messages'
complete -c ipr -n "__fish_ipr_using_subcommand drift" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ipr -n "__fish_ipr_using_subcommand notify" -l target -d 'Only this target (a name under `notifications:`, or `slack-app`); repeat for more' -r
complete -c ipr -n "__fish_ipr_using_subcommand notify" -l skip -d 'Mark the events of COMMIT (or of event COMMIT.N) delivered to the targets chosen with --target, without sending them: for an event a receiver can never take, so it stops holding up the rest' -r
complete -c ipr -n "__fish_ipr_using_subcommand notify" -l remote -d 'The git remote whose branch is shared (default: the branch\'s upstream, else `sync.remote`, else `origin`; none: this clone)' -r
complete -c ipr -n "__fish_ipr_using_subcommand notify" -s C -d 'Run as if ipr was started in PATH (like `git -C`)' -r -F
complete -c ipr -n "__fish_ipr_using_subcommand notify" -l format -d 'Output format where the output is data (markdown: only `plan analyze`)' -r -f -a "table\t''
json\t''
yaml\t''
markdown\t''"
complete -c ipr -n "__fish_ipr_using_subcommand notify" -l dry-run -d 'Show what would be delivered, and to which target; send and record nothing'
complete -c ipr -n "__fish_ipr_using_subcommand notify" -l no-input -d 'Never prompt; a missing value is an error (exit 6)'
complete -c ipr -n "__fish_ipr_using_subcommand notify" -s q -l quiet -d 'Print only what a script needs (IDs, data); no progress messages'
complete -c ipr -n "__fish_ipr_using_subcommand notify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ipr -n "__fish_ipr_using_subcommand serve" -l listen -d 'Address to listen on (port 0: any free port; the address is printed)' -r
complete -c ipr -n "__fish_ipr_using_subcommand serve" -l signing-key -d 'The server\'s own ssh signing key (a private key file, or a public one whose key is in ssh-agent). With it, the server\'s commits are committed by `server.identity` and signed, and `ipr verify` accepts them when .ipr/allowed_signers lists that key for `server.identity`. Without it, commits are the user\'s, unsigned' -r -F
complete -c ipr -n "__fish_ipr_using_subcommand serve" -s C -d 'Run as if ipr was started in PATH (like `git -C`)' -r -F
complete -c ipr -n "__fish_ipr_using_subcommand serve" -l format -d 'Output format where the output is data (markdown: only `plan analyze`)' -r -f -a "table\t''
json\t''
yaml\t''
markdown\t''"
complete -c ipr -n "__fish_ipr_using_subcommand serve" -l no-input -d 'Never prompt; a missing value is an error (exit 6)'
complete -c ipr -n "__fish_ipr_using_subcommand serve" -s q -l quiet -d 'Print only what a script needs (IDs, data); no progress messages'
complete -c ipr -n "__fish_ipr_using_subcommand serve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ipr -n "__fish_ipr_using_subcommand token; and not __fish_seen_subcommand_from new help" -s C -d 'Run as if ipr was started in PATH (like `git -C`)' -r -F
complete -c ipr -n "__fish_ipr_using_subcommand token; and not __fish_seen_subcommand_from new help" -l format -d 'Output format where the output is data (markdown: only `plan analyze`)' -r -f -a "table\t''
json\t''
yaml\t''
markdown\t''"
complete -c ipr -n "__fish_ipr_using_subcommand token; and not __fish_seen_subcommand_from new help" -l no-input -d 'Never prompt; a missing value is an error (exit 6)'
complete -c ipr -n "__fish_ipr_using_subcommand token; and not __fish_seen_subcommand_from new help" -s q -l quiet -d 'Print only what a script needs (IDs, data); no progress messages'
complete -c ipr -n "__fish_ipr_using_subcommand token; and not __fish_seen_subcommand_from new help" -s h -l help -d 'Print help'
complete -c ipr -n "__fish_ipr_using_subcommand token; and not __fish_seen_subcommand_from new help" -f -a "new" -d 'Make a new random token for EMAIL: prints the token (give it to that person; it is shown once and stored nowhere) and the line an admin adds under `server.tokens` in .ipr/config.yaml, which holds only its SHA-256'
complete -c ipr -n "__fish_ipr_using_subcommand token; and not __fish_seen_subcommand_from new help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ipr -n "__fish_ipr_using_subcommand token; and __fish_seen_subcommand_from new" -s C -d 'Run as if ipr was started in PATH (like `git -C`)' -r -F
complete -c ipr -n "__fish_ipr_using_subcommand token; and __fish_seen_subcommand_from new" -l format -d 'Output format where the output is data (markdown: only `plan analyze`)' -r -f -a "table\t''
json\t''
yaml\t''
markdown\t''"
complete -c ipr -n "__fish_ipr_using_subcommand token; and __fish_seen_subcommand_from new" -l no-input -d 'Never prompt; a missing value is an error (exit 6)'
complete -c ipr -n "__fish_ipr_using_subcommand token; and __fish_seen_subcommand_from new" -s q -l quiet -d 'Print only what a script needs (IDs, data); no progress messages'
complete -c ipr -n "__fish_ipr_using_subcommand token; and __fish_seen_subcommand_from new" -s h -l help -d 'Print help'
complete -c ipr -n "__fish_ipr_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "new" -d 'Make a new random token for EMAIL: prints the token (give it to that person; it is shown once and stored nowhere) and the line an admin adds under `server.tokens` in .ipr/config.yaml, which holds only its SHA-256'
complete -c ipr -n "__fish_ipr_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ipr -n "__fish_ipr_using_subcommand verify" -l since -d 'Check only commits after REV; REV\'s tree is trusted as the starting state' -r
complete -c ipr -n "__fish_ipr_using_subcommand verify" -s C -d 'Run as if ipr was started in PATH (like `git -C`)' -r -F
complete -c ipr -n "__fish_ipr_using_subcommand verify" -l format -d 'Output format where the output is data (markdown: only `plan analyze`)' -r -f -a "table\t''
json\t''
yaml\t''
markdown\t''"
complete -c ipr -n "__fish_ipr_using_subcommand verify" -l staged -d 'Check the staged changes against HEAD instead of history, as the commit about to be made (for the pre-commit hook; signatures and times are checked once the commit exists)'
complete -c ipr -n "__fish_ipr_using_subcommand verify" -l no-input -d 'Never prompt; a missing value is an error (exit 6)'
complete -c ipr -n "__fish_ipr_using_subcommand verify" -s q -l quiet -d 'Print only what a script needs (IDs, data); no progress messages'
complete -c ipr -n "__fish_ipr_using_subcommand verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ipr -n "__fish_ipr_using_subcommand waive" -s r -l reason -d 'Why it is accepted (at least 10 characters); kept in the waiver' -r
complete -c ipr -n "__fish_ipr_using_subcommand waive" -s C -d 'Run as if ipr was started in PATH (like `git -C`)' -r -F
complete -c ipr -n "__fish_ipr_using_subcommand waive" -l format -d 'Output format where the output is data (markdown: only `plan analyze`)' -r -f -a "table\t''
json\t''
yaml\t''
markdown\t''"
complete -c ipr -n "__fish_ipr_using_subcommand waive" -l sign -d 'Sign the commit even if git config does not ask for it'
complete -c ipr -n "__fish_ipr_using_subcommand waive" -l no-input -d 'Never prompt; a missing value is an error (exit 6)'
complete -c ipr -n "__fish_ipr_using_subcommand waive" -s q -l quiet -d 'Print only what a script needs (IDs, data); no progress messages'
complete -c ipr -n "__fish_ipr_using_subcommand waive" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ipr -n "__fish_ipr_using_subcommand import" -s C -d 'Run as if ipr was started in PATH (like `git -C`)' -r -F
complete -c ipr -n "__fish_ipr_using_subcommand import" -l format -d 'Output format where the output is data (markdown: only `plan analyze`)' -r -f -a "table\t''
json\t''
yaml\t''
markdown\t''"
complete -c ipr -n "__fish_ipr_using_subcommand import" -l sign -d 'Sign the commits even if git config does not ask for it'
complete -c ipr -n "__fish_ipr_using_subcommand import" -l no-input -d 'Never prompt; a missing value is an error (exit 6)'
complete -c ipr -n "__fish_ipr_using_subcommand import" -s q -l quiet -d 'Print only what a script needs (IDs, data); no progress messages'
complete -c ipr -n "__fish_ipr_using_subcommand import" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ipr -n "__fish_ipr_using_subcommand hooks; and not __fish_seen_subcommand_from install pre-receive help" -s C -d 'Run as if ipr was started in PATH (like `git -C`)' -r -F
complete -c ipr -n "__fish_ipr_using_subcommand hooks; and not __fish_seen_subcommand_from install pre-receive help" -l format -d 'Output format where the output is data (markdown: only `plan analyze`)' -r -f -a "table\t''
json\t''
yaml\t''
markdown\t''"
complete -c ipr -n "__fish_ipr_using_subcommand hooks; and not __fish_seen_subcommand_from install pre-receive help" -l no-input -d 'Never prompt; a missing value is an error (exit 6)'
complete -c ipr -n "__fish_ipr_using_subcommand hooks; and not __fish_seen_subcommand_from install pre-receive help" -s q -l quiet -d 'Print only what a script needs (IDs, data); no progress messages'
complete -c ipr -n "__fish_ipr_using_subcommand hooks; and not __fish_seen_subcommand_from install pre-receive help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ipr -n "__fish_ipr_using_subcommand hooks; and not __fish_seen_subcommand_from install pre-receive help" -f -a "install" -d 'Install the pre-commit hook and print the server\'s pre-receive hook'
complete -c ipr -n "__fish_ipr_using_subcommand hooks; and not __fish_seen_subcommand_from install pre-receive help" -f -a "pre-receive" -d 'Print the pre-receive hook for the server\'s bare repository'
complete -c ipr -n "__fish_ipr_using_subcommand hooks; and not __fish_seen_subcommand_from install pre-receive help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ipr -n "__fish_ipr_using_subcommand hooks; and __fish_seen_subcommand_from install" -s C -d 'Run as if ipr was started in PATH (like `git -C`)' -r -F
complete -c ipr -n "__fish_ipr_using_subcommand hooks; and __fish_seen_subcommand_from install" -l format -d 'Output format where the output is data (markdown: only `plan analyze`)' -r -f -a "table\t''
json\t''
yaml\t''
markdown\t''"
complete -c ipr -n "__fish_ipr_using_subcommand hooks; and __fish_seen_subcommand_from install" -l force -d 'Replace a pre-commit hook that ipr did not write'
complete -c ipr -n "__fish_ipr_using_subcommand hooks; and __fish_seen_subcommand_from install" -l no-input -d 'Never prompt; a missing value is an error (exit 6)'
complete -c ipr -n "__fish_ipr_using_subcommand hooks; and __fish_seen_subcommand_from install" -s q -l quiet -d 'Print only what a script needs (IDs, data); no progress messages'
complete -c ipr -n "__fish_ipr_using_subcommand hooks; and __fish_seen_subcommand_from install" -s h -l help -d 'Print help'
complete -c ipr -n "__fish_ipr_using_subcommand hooks; and __fish_seen_subcommand_from pre-receive" -s C -d 'Run as if ipr was started in PATH (like `git -C`)' -r -F
complete -c ipr -n "__fish_ipr_using_subcommand hooks; and __fish_seen_subcommand_from pre-receive" -l format -d 'Output format where the output is data (markdown: only `plan analyze`)' -r -f -a "table\t''
json\t''
yaml\t''
markdown\t''"
complete -c ipr -n "__fish_ipr_using_subcommand hooks; and __fish_seen_subcommand_from pre-receive" -l no-input -d 'Never prompt; a missing value is an error (exit 6)'
complete -c ipr -n "__fish_ipr_using_subcommand hooks; and __fish_seen_subcommand_from pre-receive" -s q -l quiet -d 'Print only what a script needs (IDs, data); no progress messages'
complete -c ipr -n "__fish_ipr_using_subcommand hooks; and __fish_seen_subcommand_from pre-receive" -s h -l help -d 'Print help'
complete -c ipr -n "__fish_ipr_using_subcommand hooks; and __fish_seen_subcommand_from help" -f -a "install" -d 'Install the pre-commit hook and print the server\'s pre-receive hook'
complete -c ipr -n "__fish_ipr_using_subcommand hooks; and __fish_seen_subcommand_from help" -f -a "pre-receive" -d 'Print the pre-receive hook for the server\'s bare repository'
complete -c ipr -n "__fish_ipr_using_subcommand hooks; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ipr -n "__fish_ipr_using_subcommand completions" -s C -d 'Run as if ipr was started in PATH (like `git -C`)' -r -F
complete -c ipr -n "__fish_ipr_using_subcommand completions" -l format -d 'Output format where the output is data (markdown: only `plan analyze`)' -r -f -a "table\t''
json\t''
yaml\t''
markdown\t''"
complete -c ipr -n "__fish_ipr_using_subcommand completions" -l no-input -d 'Never prompt; a missing value is an error (exit 6)'
complete -c ipr -n "__fish_ipr_using_subcommand completions" -s q -l quiet -d 'Print only what a script needs (IDs, data); no progress messages'
complete -c ipr -n "__fish_ipr_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ipr -n "__fish_ipr_using_subcommand man" -s C -d 'Run as if ipr was started in PATH (like `git -C`)' -r -F
complete -c ipr -n "__fish_ipr_using_subcommand man" -l format -d 'Output format where the output is data (markdown: only `plan analyze`)' -r -f -a "table\t''
json\t''
yaml\t''
markdown\t''"
complete -c ipr -n "__fish_ipr_using_subcommand man" -l no-input -d 'Never prompt; a missing value is an error (exit 6)'
complete -c ipr -n "__fish_ipr_using_subcommand man" -s q -l quiet -d 'Print only what a script needs (IDs, data); no progress messages'
complete -c ipr -n "__fish_ipr_using_subcommand man" -s h -l help -d 'Print help'
complete -c ipr -n "__fish_ipr_using_subcommand demo" -l dir -d 'Build the demo repo here and keep it [default: a temporary directory, removed after]' -r -F
complete -c ipr -n "__fish_ipr_using_subcommand demo" -l listen -d 'Where `--serve` listens' -r
complete -c ipr -n "__fish_ipr_using_subcommand demo" -s C -d 'Run as if ipr was started in PATH (like `git -C`)' -r -F
complete -c ipr -n "__fish_ipr_using_subcommand demo" -l format -d 'Output format where the output is data (markdown: only `plan analyze`)' -r -f -a "table\t''
json\t''
yaml\t''
markdown\t''"
complete -c ipr -n "__fish_ipr_using_subcommand demo" -l serve -d 'Then serve the demo repo (`ipr serve`): the web UI and the API, with a second request waiting for review and a token for each user, printed with the URL. Ctrl-C stops it'
complete -c ipr -n "__fish_ipr_using_subcommand demo" -l no-input -d 'Never prompt; a missing value is an error (exit 6)'
complete -c ipr -n "__fish_ipr_using_subcommand demo" -s q -l quiet -d 'Print only what a script needs (IDs, data); no progress messages'
complete -c ipr -n "__fish_ipr_using_subcommand demo" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ipr -n "__fish_ipr_using_subcommand help; and not __fish_seen_subcommand_from init create list show approve reject review cancel comment promote deploy break-glass incident record stats log sync plan policy drift notify serve token verify waive import hooks completions man demo help" -f -a "init" -d 'Create .ipr/config.yaml and requests/prod/ in the current git repo, and commit the config'
complete -c ipr -n "__fish_ipr_using_subcommand help; and not __fish_seen_subcommand_from init create list show approve reject review cancel comment promote deploy break-glass incident record stats log sync plan policy drift notify serve token verify waive import hooks completions man demo help" -f -a "create" -d 'File a new promotion request and commit it as yourself'
complete -c ipr -n "__fish_ipr_using_subcommand help; and not __fish_seen_subcommand_from init create list show approve reject review cancel comment promote deploy break-glass incident record stats log sync plan policy drift notify serve token verify waive import hooks completions man demo help" -f -a "list" -d 'List the requests you can see, oldest first'
complete -c ipr -n "__fish_ipr_using_subcommand help; and not __fish_seen_subcommand_from init create list show approve reject review cancel comment promote deploy break-glass incident record stats log sync plan policy drift notify serve token verify waive import hooks completions man demo help" -f -a "show" -d 'Show one request: target, justification, release notes, impact, rollback plan, pre-checks and its timeline'
complete -c ipr -n "__fish_ipr_using_subcommand help; and not __fish_seen_subcommand_from init create list show approve reject review cancel comment promote deploy break-glass incident record stats log sync plan policy drift notify serve token verify waive import hooks completions man demo help" -f -a "approve" -d 'Approve a pending request'
complete -c ipr -n "__fish_ipr_using_subcommand help; and not __fish_seen_subcommand_from init create list show approve reject review cancel comment promote deploy break-glass incident record stats log sync plan policy drift notify serve token verify waive import hooks completions man demo help" -f -a "reject" -d 'Reject a pending request; one rejection ends it'
complete -c ipr -n "__fish_ipr_using_subcommand help; and not __fish_seen_subcommand_from init create list show approve reject review cancel comment promote deploy break-glass incident record stats log sync plan policy drift notify serve token verify waive import hooks completions man demo help" -f -a "review" -d 'Approve or reject a pending request (same rules as `ipr approve` and `ipr reject`); with --reject, --comment is the reason'
complete -c ipr -n "__fish_ipr_using_subcommand help; and not __fish_seen_subcommand_from init create list show approve reject review cancel comment promote deploy break-glass incident record stats log sync plan policy drift notify serve token verify waive import hooks completions man demo help" -f -a "cancel" -d 'Cancel a pending or approved request'
complete -c ipr -n "__fish_ipr_using_subcommand help; and not __fish_seen_subcommand_from init create list show approve reject review cancel comment promote deploy break-glass incident record stats log sync plan policy drift notify serve token verify waive import hooks completions man demo help" -f -a "comment" -d 'Comment on a request: a `commented` history entry, in any state, that changes nothing else'
complete -c ipr -n "__fish_ipr_using_subcommand help; and not __fish_seen_subcommand_from init create list show approve reject review cancel comment promote deploy break-glass incident record stats log sync plan policy drift notify serve token verify waive import hooks completions man demo help" -f -a "promote" -d 'File the next-stage request for a deployed one'
complete -c ipr -n "__fish_ipr_using_subcommand help; and not __fish_seen_subcommand_from init create list show approve reject review cancel comment promote deploy break-glass incident record stats log sync plan policy drift notify serve token verify waive import hooks completions man demo help" -f -a "deploy" -d 'Deploy an approved request (or retry a failed one) through its runner, and record the outcome in the ticket'
complete -c ipr -n "__fish_ipr_using_subcommand help; and not __fish_seen_subcommand_from init create list show approve reject review cancel comment promote deploy break-glass incident record stats log sync plan policy drift notify serve token verify waive import hooks completions man demo help" -f -a "break-glass" -d 'Two-person break glass: agree to another admin\'s break-glass deploy'
complete -c ipr -n "__fish_ipr_using_subcommand help; and not __fish_seen_subcommand_from init create list show approve reject review cancel comment promote deploy break-glass incident record stats log sync plan policy drift notify serve token verify waive import hooks completions man demo help" -f -a "incident" -d 'Record the incident report that follows a break-glass deploy'
complete -c ipr -n "__fish_ipr_using_subcommand help; and not __fish_seen_subcommand_from init create list show approve reject review cancel comment promote deploy break-glass incident record stats log sync plan policy drift notify serve token verify waive import hooks completions man demo help" -f -a "record" -d 'Record the outcome of a deploy started with `ipr deploy --no-wait` (from an AWX notification webhook, a CI callback, or by hand)'
complete -c ipr -n "__fish_ipr_using_subcommand help; and not __fish_seen_subcommand_from init create list show approve reject review cancel comment promote deploy break-glass incident record stats log sync plan policy drift notify serve token verify waive import hooks completions man demo help" -f -a "stats" -d 'Counts for a dashboard: pending requests, approved and rejected today, deployed this week (since Monday 00:00 UTC), over the requests you can see'
complete -c ipr -n "__fish_ipr_using_subcommand help; and not __fish_seen_subcommand_from init create list show approve reject review cancel comment promote deploy break-glass incident record stats log sync plan policy drift notify serve token verify waive import hooks completions man demo help" -f -a "log" -d 'Show the commits of one request, newest first: who acted, what they did, when, and the signature status of each commit'
complete -c ipr -n "__fish_ipr_using_subcommand help; and not __fish_seen_subcommand_from init create list show approve reject review cancel comment promote deploy break-glass incident record stats log sync plan policy drift notify serve token verify waive import hooks completions man demo help" -f -a "sync" -d 'Share your actions with the team: fetch the remote branch, replay your unpushed ipr commits on top of it one by one (each re-checked against the remote\'s state), and push'
complete -c ipr -n "__fish_ipr_using_subcommand help; and not __fish_seen_subcommand_from init create list show approve reject review cancel comment promote deploy break-glass incident record stats log sync plan policy drift notify serve token verify waive import hooks completions man demo help" -f -a "plan" -d 'Work with Terraform plans'
complete -c ipr -n "__fish_ipr_using_subcommand help; and not __fish_seen_subcommand_from init create list show approve reject review cancel comment promote deploy break-glass incident record stats log sync plan policy drift notify serve token verify waive import hooks completions man demo help" -f -a "policy" -d 'Policy as code: the Rego policies of `.ipr/policies` that every terraform request must pass'
complete -c ipr -n "__fish_ipr_using_subcommand help; and not __fish_seen_subcommand_from init create list show approve reject review cancel comment promote deploy break-glass incident record stats log sync plan policy drift notify serve token verify waive import hooks completions man demo help" -f -a "drift" -d 'Find objects changed outside Terraform; with --create, open a request that records them'
complete -c ipr -n "__fish_ipr_using_subcommand help; and not __fish_seen_subcommand_from init create list show approve reject review cancel comment promote deploy break-glass incident record stats log sync plan policy drift notify serve token verify waive import hooks completions man demo help" -f -a "notify" -d 'Deliver the notifications that have not been delivered yet'
complete -c ipr -n "__fish_ipr_using_subcommand help; and not __fish_seen_subcommand_from init create list show approve reject review cancel comment promote deploy break-glass incident record stats log sync plan policy drift notify serve token verify waive import hooks completions man demo help" -f -a "serve" -d 'Serve the JSON API of this clone over HTTP (SPEC §12)'
complete -c ipr -n "__fish_ipr_using_subcommand help; and not __fish_seen_subcommand_from init create list show approve reject review cancel comment promote deploy break-glass incident record stats log sync plan policy drift notify serve token verify waive import hooks completions man demo help" -f -a "token" -d 'API tokens for `ipr serve`'
complete -c ipr -n "__fish_ipr_using_subcommand help; and not __fish_seen_subcommand_from init create list show approve reject review cancel comment promote deploy break-glass incident record stats log sync plan policy drift notify serve token verify waive import hooks completions man demo help" -f -a "verify" -d 'Replay the branch\'s history and check every transition'
complete -c ipr -n "__fish_ipr_using_subcommand help; and not __fish_seen_subcommand_from init create list show approve reject review cancel comment promote deploy break-glass incident record stats log sync plan policy drift notify serve token verify waive import hooks completions man demo help" -f -a "waive" -d 'Accept the violations of one commit (admins only)'
complete -c ipr -n "__fish_ipr_using_subcommand help; and not __fish_seen_subcommand_from init create list show approve reject review cancel comment promote deploy break-glass incident record stats log sync plan policy drift notify serve token verify waive import hooks completions man demo help" -f -a "import" -d 'Commit tickets from another system, unchanged (admins only)'
complete -c ipr -n "__fish_ipr_using_subcommand help; and not __fish_seen_subcommand_from init create list show approve reject review cancel comment promote deploy break-glass incident record stats log sync plan policy drift notify serve token verify waive import hooks completions man demo help" -f -a "hooks" -d 'Git hooks that run `ipr verify`'
complete -c ipr -n "__fish_ipr_using_subcommand help; and not __fish_seen_subcommand_from init create list show approve reject review cancel comment promote deploy break-glass incident record stats log sync plan policy drift notify serve token verify waive import hooks completions man demo help" -f -a "completions" -d 'Print a shell completion script'
complete -c ipr -n "__fish_ipr_using_subcommand help; and not __fish_seen_subcommand_from init create list show approve reject review cancel comment promote deploy break-glass incident record stats log sync plan policy drift notify serve token verify waive import hooks completions man demo help" -f -a "man" -d 'Print the man page (roff): `ipr man | man -l -`'
complete -c ipr -n "__fish_ipr_using_subcommand help; and not __fish_seen_subcommand_from init create list show approve reject review cancel comment promote deploy break-glass incident record stats log sync plan policy drift notify serve token verify waive import hooks completions man demo help" -f -a "demo" -d 'Run the workflow end to end on a throwaway gitops repo: an admin sets it up, a devops engineer files a request, a tenant admin approves it, it is deployed, and an auditor verifies the history'
complete -c ipr -n "__fish_ipr_using_subcommand help; and not __fish_seen_subcommand_from init create list show approve reject review cancel comment promote deploy break-glass incident record stats log sync plan policy drift notify serve token verify waive import hooks completions man demo help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ipr -n "__fish_ipr_using_subcommand help; and __fish_seen_subcommand_from break-glass" -f -a "confirm" -d 'Agree to the open break-glass deploy of a request; the agreement that completes breakGlass.admins deploys it at once, as you'
complete -c ipr -n "__fish_ipr_using_subcommand help; and __fish_seen_subcommand_from plan" -f -a "analyze" -d 'Risk report of a Terraform plan: every resource change with its risk, data sources read, drift, terraform\'s summary line and the plan\'s risk'
complete -c ipr -n "__fish_ipr_using_subcommand help; and __fish_seen_subcommand_from policy" -f -a "test" -d 'Run each policy against its fixture plans'
complete -c ipr -n "__fish_ipr_using_subcommand help; and __fish_seen_subcommand_from token" -f -a "new" -d 'Make a new random token for EMAIL: prints the token (give it to that person; it is shown once and stored nowhere) and the line an admin adds under `server.tokens` in .ipr/config.yaml, which holds only its SHA-256'
complete -c ipr -n "__fish_ipr_using_subcommand help; and __fish_seen_subcommand_from hooks" -f -a "install" -d 'Install the pre-commit hook and print the server\'s pre-receive hook'
complete -c ipr -n "__fish_ipr_using_subcommand help; and __fish_seen_subcommand_from hooks" -f -a "pre-receive" -d 'Print the pre-receive hook for the server\'s bare repository'
