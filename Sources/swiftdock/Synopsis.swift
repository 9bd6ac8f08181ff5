/// Each command's synopsis, shown as USAGE by `--help` and printed word for word in the
/// README's Commands section (EndToEndTests.ReadmeSynopsisTests keeps the two the same).
enum Synopsis {
    static let build = "swiftdock build [-t REF]... [-f DOCKERFILE] [--build-arg K=V]... [--target STAGE] [--platform os/arch] [--run exec|record] [--format oci|docker] [--compression-level N] [--source-date-epoch T] [-q] [--pull] [--no-cache] [--no-cache-filter STAGE]... [--cache-from SPEC]... [--cache-to SPEC]... [--push] [--sbom] [--provenance[=mode=min|max]] [--jobs N] [--secret id=ID[,src=FILE|env=VAR][,type=file|env|google-token]]... [--ssh default|ID[=SOCKET|KEY[,KEY]]]... CONTEXT"
    static let images = "swiftdock images [-a] [-q] [--digests] [--filter dangling=true|false] [--format table|json] [--no-trunc] [REPOSITORY[:TAG]]"
    static let tag = "swiftdock tag SOURCE TARGET"
    static let rmi = "swiftdock rmi [-f] IMAGE..."
    static let inspect = "swiftdock inspect [-f TEMPLATE] [--remote [--platform os/arch]] [--attestations] IMAGE..."
    static let save = "swiftdock save [--format docker|oci] -o PATH IMAGE..."
    static let pull = "swiftdock pull [--platform os/arch] [--all-layers] [--jobs N] [-q] REF"
    static let push = "swiftdock push [--jobs N] [-q] IMAGE|oci:DIR[:NAME] [DEST_REF | oci:DIR[:NAME]]"
    static let prune = "swiftdock system prune [-a] [-f] [--filter until=DURATION]"
    static let df = "swiftdock system df"
    static let login = "swiftdock login [-u USER] [--password-stdin] REGISTRY"
    static let logout = "swiftdock logout REGISTRY"
    static let run = "swiftdock run [--rm] [-e K=V]... [-w DIR] [-u USER] [--entrypoint E] [--network host|none] IMAGE [CMD...]"
    static let version = "swiftdock version"
    static let sign = "swiftdock sign --key KEY REF"
    static let verify = "swiftdock verify --key PUB REF"
}
