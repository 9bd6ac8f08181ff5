import XCTest
@testable import ImageBuilder
