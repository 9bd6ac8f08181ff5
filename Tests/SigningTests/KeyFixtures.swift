/// Throw-away test keys (never used anywhere else): cosign's encrypted keys were written by
/// `cosign generate-key-pair` / `cosign import-key-pair` 2.5.0 with the password below; the
/// plain ones by `openssl genpkey` / `openssl ecparam -genkey`.
enum KeyFixtures {
    static let password = "fixture-password"

    /// `cosign generate-key-pair`: EC P-256 in cosign's encrypted format.
    static let cosignP256 = """
        -----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----
        eyJrZGYiOnsibmFtZSI6InNjcnlwdCIsInBhcmFtcyI6eyJOIjo2NTUzNiwiciI6
        OCwicCI6MX0sInNhbHQiOiJxYjZEWHdLNlhzUnZRNmhjRjl6cXRBazBrVzVjZFpJ
        T2JnMmhUUkNxWlRBPSJ9LCJjaXBoZXIiOnsibmFtZSI6Im5hY2wvc2VjcmV0Ym94
        Iiwibm9uY2UiOiJnMTM1MHY0NWZ2RER4OW9LOTE3WkxOcGpDYTl0dWg1TiJ9LCJj
        aXBoZXJ0ZXh0Ijoid1JTa1FEMWRXdlEvb29nczRmaG1vQ2w1Y2dXc3E2MVdOTzVz
        akdReFdpdWhRTzB0ZEZaeE90WTZwc1hWTEVPK1ZqTzB0T3BCRDFENkxCMFpMTjBk
        cm9xVnZrUDdTL2t1dFRmQXpaT3E1b3BINTU2c3ExMEQyNzhqL2N4MFluZUMzbkt5
        aHI2WDNGUjhaK29oakZGRW9SRXRsNnB2TUt3NDJuK01aeDZ3Y2FVSDBpMnJkOXc0
        eDNqcjBaOWNJcFNOME1Yc1pKckNGS0F0WWc9PSJ9
        -----END ENCRYPTED SIGSTORE PRIVATE KEY-----
        """
    static let cosignP256Public = """
        -----BEGIN PUBLIC KEY-----
        MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE/ZgCm4mi0MVipg3UdSCixtqs9zca
        yuoQpodYwTgLDPQi3OnDWWiQwOFSoNAxOdAU1LGcJIYJTWFoP41pds6+oA==
        -----END PUBLIC KEY-----
        """

    /// `openssl genpkey -algorithm ed25519` (PKCS#8), and the same key after
    /// `cosign import-key-pair`.
    static let ed25519 = """
        -----BEGIN PRIVATE KEY-----
        MC4CAQAwBQYDK2VwBCIEIJLZuNGBgMlsFEaUjZsPaJopQPaMMAuZSaIc6WrTWr4j
        -----END PRIVATE KEY-----
        """
    static let cosignEd25519 = """
        -----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----
        eyJrZGYiOnsibmFtZSI6InNjcnlwdCIsInBhcmFtcyI6eyJOIjo2NTUzNiwiciI6
        OCwicCI6MX0sInNhbHQiOiIrb1FYcUF4aXg0LzViS1lqSWJZWUxBanF3M0lwSGdj
        TEE4QVBlUS9BdVVrPSJ9LCJjaXBoZXIiOnsibmFtZSI6Im5hY2wvc2VjcmV0Ym94
        Iiwibm9uY2UiOiJFcXpxS1BDYk8xYUhGR2xFSGVjd3p6YnRQaGIzd3hWdyJ9LCJj
        aXBoZXJ0ZXh0IjoiSnM1Z3luZnZjVk1BZk8vRmNJMExaOUJoY3g3aUg5THUvRmMw
        cW0rSldRQmxhejhqRzNrVlZJSXM3UWpTUjJ0L3FmZTR2Mjg0NVJzK2N1cC9ROTEr
        bXc9PSJ9
        -----END ENCRYPTED SIGSTORE PRIVATE KEY-----
        """
    static let ed25519Public = """
        -----BEGIN PUBLIC KEY-----
        MCowBQYDK2VwAyEAPCrZzxkya1vkELWeC8t+aYVfa9ZANEFyHXvO0dFzV/Q=
        -----END PUBLIC KEY-----
        """

    /// `openssl ecparam -name prime256v1 -genkey -noout` (SEC 1).
    static let sec1P256 = """
        -----BEGIN EC PRIVATE KEY-----
        MHcCAQEEINdTY3hEabbsYzMAPodzHnUlKysmArOSN68KhtpEUjcDoAoGCCqGSM49
        AwEHoUQDQgAErXkDBoWuai94ZQewqK3Ht/Zf4xjPkwXDmqXHTAeGKRFuMf/doZ6a
        RTcPJSVXkQRSIdmY6yoYCUwVnEkd7VStyQ==
        -----END EC PRIVATE KEY-----
        """
    static let sec1P256Public = """
        -----BEGIN PUBLIC KEY-----
        MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAErXkDBoWuai94ZQewqK3Ht/Zf4xjP
        kwXDmqXHTAeGKRFuMf/doZ6aRTcPJSVXkQRSIdmY6yoYCUwVnEkd7VStyQ==
        -----END PUBLIC KEY-----
        """

    /// P-384 (PKCS#8): a curve swiftdock refuses.
    static let p384 = """
        -----BEGIN PRIVATE KEY-----
        MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDALS2lMcuiUubLoJdxL
        D1mLhXXesE21BTMKWoLPmtRgFhMCBCxb8W9CrB6ZReR9ysyhZANiAASKSTWwBTIB
        JfAlBUHcPAQC55cwRBABwNviX8UxSxtrXLnYDXZI6IAOHlj2fcApAffDoRg7kBt1
        SwxAjkjMRFo3cnaLHA9757411xPqk+MYQ/Jzd1MygeQosNU5UHFMaYM=
        -----END PRIVATE KEY-----
        """

    /// cosign's encrypted-key JSON with the given scrypt parameters, wrapped in PEM.
    static func encrypted(n: Int, r: Int = 8, p: Int = 1, kdf: String = "scrypt", cipher: String = "nacl/secretbox") -> String {
        let json = """
            {"kdf":{"name":"\(kdf)","params":{"N":\(n),"r":\(r),"p":\(p)},"salt":"qb6DXwK6XsRvQ6hcF9zqtAk0kW5cdZIObg2hTRCqZTA="},\
            "cipher":{"name":"\(cipher)","nonce":"g1350v45fvDDx9oK917ZLNpjCa9tuh5N"},"ciphertext":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}
            """
        return "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n\(Data(json.utf8).base64EncodedString())\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n"
    }
}

import Foundation
