package counters

// KnownTargetTypes returns the target types of the modelled system (SPEC.md §1.9),
// spelled as its connectors name them. It returns a new slice on every call, so
// callers may keep or change it.
func KnownTargetTypes() []string {
	return []string{
		"NGINX", "Apache", "HAProxy", "F5", "IIS", "Traefik", "Caddy", "Envoy",
		"Postfix", "Dovecot", "SSH", "WinCertStore", "JavaKeystore",
		"KubernetesSecrets", "AWSACM", "AzureKeyVault",
	}
}
