// File: patterns.h
//
// The string predicates Kuma's MeshAccessLog validation relies on, reimplemented with the exact
// semantics of the Go code Kuma v2.14 calls:
//   - govalidator (v0.0.0-20230301143203-a9d515a09cc2): IsURL, IsFilePath, IsJSON
//   - Go net/url.Parse (the subset IsURL needs: scheme, authority/host/port, %-escapes)
//   - go-spiffe v2.6.0 spiffeid.FromString error texts
//   - k8s.io/apimachinery v0.36 validation.IsDNS1123Subdomain messages
//   - Kuma's own charsets (NameCharacterSet, tag name/value, selector value, OTel attribute names)
//
// Example:
//   EXPECT_TRUE(IsGovalidatorURL("127.0.0.1:5000"));
//   EXPECT_FALSE(IsGovalidatorURL("logstash"));
//   EXPECT_TRUE(IsGovalidatorFilePath("/dev/stdout"));
//   EXPECT_EQ(SpiffeIdError("spiffe://td/a/"), "path cannot have a trailing slash");
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meshlog::policy {

// govalidator.IsURL.
bool IsGovalidatorURL(std::string_view s);
// govalidator.IsFilePath (Windows or Unix absolute path).
bool IsGovalidatorFilePath(std::string_view s);
// govalidator.IsJSON = Go json.Unmarshal into json.RawMessage succeeds (valid JSON text, invalid
// UTF-8 inside strings tolerated as Go does).
bool IsGoJSON(std::string_view s);

// The parts of a Go *url.URL that IsURL looks at. nullopt = url.Parse returned an error.
struct GoUrl {
  std::string scheme;
  std::string host;  // raw authority host[:port] (after userinfo)
  std::string path;  // %-decoded
};
std::optional<GoUrl> ParseGoUrl(std::string_view raw);

// spiffeid.FromString: nullopt when valid, else the go-spiffe error text.
std::optional<std::string> SpiffeIdError(std::string_view id);

// validation.IsDNS1123Subdomain: the list of messages (empty when valid).
std::vector<std::string> Dns1123SubdomainErrors(std::string_view value);

// ^[a-z](?:[a-z0-9]|[._][a-z0-9])*$ : both the CRD pattern on OTel attribute keys and Kuma's
// otelAttributeNameRegex describe this language.
bool MatchesOtelAttributeKeySchemaPattern(std::string_view key);

// Kuma NameCharacterSet ^[0-9a-z.\-_]*$
bool IsKumaNameCharset(std::string_view s);
// Kuma tagNameCharacterSet ^[a-zA-Z0-9.\-_:/]*$
bool IsKumaTagNameCharset(std::string_view s);
// Kuma tagValueCharacterSet ^[a-zA-Z0-9.\-_:]*$
bool IsKumaTagValueCharset(std::string_view s);
// Kuma selectorCharacterSet ^([a-zA-Z0-9.\-_:/]*|\*)$
bool IsKumaSelectorValueCharset(std::string_view s);

}  // namespace meshlog::policy
