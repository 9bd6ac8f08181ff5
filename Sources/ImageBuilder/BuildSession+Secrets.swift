import Foundation
import Sandbox

/// What `RUN --mount=type=secret` and `RUN --mount=type=ssh` add to a step.
struct CredentialMounts {
    var mounts: [SandboxMount] = []
    /// `NAME=value` entries for the RUN's process only (secret `env=`, `SSH_AUTH_SOCK`).
    var environment: [String] = []
    /// Ssh mounts seen so far in the RUN (BuildKit numbers default targets by this).
    var sshCount = 0

    /// Adds one mount, following BuildKit's dockerfile frontend (runmount.go) and LLB exec op:
    /// a secret is a read-only file (mode 0400, owned 0:0 unless given) at its target and/or
    /// the environment variable `env`; an ssh mount binds the agent's socket at its target
    /// (`/run/buildkit/ssh_agent.N` by default) and the first one sets `SSH_AUTH_SOCK`. A mount
    /// whose secret or agent was not given is left out, or fails the step when `required`.
    mutating func add(_ mount: RunMount, session: BuildSession) throws {
        let id = mount.id ?? "default"
        switch mount.kind {
        case .secret:
            guard let value = session.options.secrets[id] else {
                if mount.required { throw BuildError("secret \(id): not provided (build with --secret id=\(id),src=FILE or env=VAR)") }
                return
            }
            if let name = mount.env {
                guard !value.bytes.contains(0) else { throw BuildError("secret \(id): has a NUL byte and cannot be the environment variable \(name)") }
                environment.removeAll { $0.hasPrefix(name + "=") }
                environment.append(name + "=" + String(decoding: value.bytes, as: UTF8.self))
            }
            if !mount.target.isEmpty {
                mounts.append(SandboxMount(secret: value.bytes, target: mount.target, mode: mount.mode ?? 0o400,
                                           uid: mount.uid ?? 0, gid: mount.gid ?? 0))
            }
        case .ssh:
            let target = mount.target.isEmpty ? "/run/buildkit/ssh_agent.\(sshCount)" : mount.target
            sshCount += 1
            // The agent's own socket is bound, not a proxy of it: it keeps the owner and mode
            // the agent gave it (the build's user, 0600), which are BuildKit's defaults.
            if (mount.uid ?? 0) != 0 || (mount.gid ?? 0) != 0 || (mount.mode ?? 0o600) != 0o600 {
                throw BuildError("--mount type=ssh: uid, gid and mode other than 0, 0 and 0600 are not supported (the agent's socket is bound as it is)")
            }
            guard let socket = session.sshForwarding?.sockets[id] else {
                if mount.required { throw BuildError("ssh \(id): no SSH agent or key forwarded (build with --ssh \(id)[=SOCKET|KEY])") }
                return
            }
            let directory = (socket as NSString).deletingLastPathComponent
            mounts.append(SandboxMount(root: directory.isEmpty ? "." : directory, path: (socket as NSString).lastPathComponent,
                                       target: target, readOnly: true))
            if !environment.contains(where: { $0.hasPrefix("SSH_AUTH_SOCK=") }) { environment.append("SSH_AUTH_SOCK=" + target) }
        default:
            break
        }
    }
}
