import AsyncHTTPClient
import Testing

@testable import GranaryFetch

/// The fetcher's address and URL rules, which keep external locations from reaching inside.
@Suite struct ExternalFetcherTests {
    @Test func onlyPublicAddressesArePublic() {
        for address in ["8.8.8.8", "1.1.1.1", "151.101.1.69", "2606:4700::1111", "2001:db9::1"] {
            #expect(ExternalFetcher.isPublic(address), "\(address)")
        }
        for address in [
            "127.0.0.1", "127.8.9.10", "10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254", "100.64.0.1",
            "0.0.0.0", "224.0.0.1", "255.255.255.255", "198.18.0.1", "::1", "::", "fc00::1", "fd12:3456::1", "fe80::1", "ff02::1",
            "::ffff:127.0.0.1", "::ffff:10.0.0.1", "not-an-address",
        ] {
            #expect(!ExternalFetcher.isPublic(address), "\(address)")
        }
        #expect(ExternalFetcher.isPublic("172.32.0.1") && ExternalFetcher.isPublic("100.128.0.1"))
    }

    /// Whether `attempt` is refused by the rules, before anything is sent.
    func refused(_ attempt: () throws -> Void) -> Bool {
        do {
            try attempt()
            return false
        } catch {
            return (error as? OutboundError)?.kind == .refused
        }
    }

    @Test func urlsAreCheckedBeforeAnyConnection() throws {
        let strict = ExternalFetcher(policy: ExternalFetchPolicy())
        for url in ["http://127.0.0.1/x", "https://127.0.0.1/x", "https://user:pw@example.com/x", "ftp://example.com/x", "/relative"] {
            #expect(refused({ _ = try strict.checkedRequest(url) }), "\(url)")
        }
        var policy = ExternalFetchPolicy()
        policy.allowHTTP = true
        policy.allowedHosts = ["127.0.0.1:8080"]
        let lenient = ExternalFetcher(policy: policy)
        let (request, address) = try lenient.checkedRequest("http://127.0.0.1:8080/tpl")
        #expect(address == "127.0.0.1" && request.url == "http://127.0.0.1:8080/tpl")
        // The allow-list names a host and port: another port of it stays refused.
        #expect(refused({ _ = try lenient.checkedRequest("http://127.0.0.1:9090/tpl") }))
    }

    @Test func theWebDownloadPolicyIsGlancesFilterWithAddressChecks() throws {
        let glance = ExternalFetcher(policy: .webDownload)
        for url in ["http://127.0.0.1/x", "http://10.0.0.1/x", "http://169.254.169.254/latest/", "http://8.8.8.8:8080/x", "ftp://8.8.8.8/x"] {
            #expect(refused({ try glance.check(url) }), "\(url)")
        }
        // Ports 80 and 443, said or implied, of a public address pass (nothing is connected to).
        for url in ["http://8.8.8.8/disk.img", "http://8.8.8.8:80/disk.img", "https://8.8.8.8/disk.img", "https://8.8.8.8:443/x"] {
            try glance.check(url)
        }
        var policy = ExternalFetchPolicy.webDownload
        policy.allowedHosts = ["127.0.0.1:8000"]
        let lenient = ExternalFetcher(policy: policy)
        // An allow-listed host still needs its port allowed.
        #expect(refused({ try lenient.check("http://127.0.0.1:8000/x") }))
        policy.allowedPorts?.insert(8000)
        try ExternalFetcher(policy: policy).check("http://127.0.0.1:8000/x")
    }
}
